namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>
/// Turns a message into DATA's form (RFC 5321 section 4.5.2), a chunk at a time and in bounded memory:
/// a bare LF becomes CRLF, a line that starts with <c>.</c> gets another in front, and the end gets a
/// CRLF if the message lacks one, then the <c>.</c> line. The state between chunks is whether the next
/// byte starts a line and whether the last byte was a CR. Bare CRs are left as they are.
/// </summary>
internal struct DotStuffer
{
    private bool _atLineStart;
    private bool _afterCr;

    public DotStuffer()
    {
        _atLineStart = true;
    }

    /// <summary>The most output one input chunk can make: every byte an LF (two bytes) or a line of just '.'.</summary>
    public static int MaxOutput(int inputLength) => 2 * inputLength;

    /// <summary>Writes <paramref name="input"/> in DATA's form to <paramref name="output"/> (at least <see cref="MaxOutput"/> long); returns the bytes written.</summary>
    public int Transform(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int written = 0;
        while (!input.IsEmpty)
        {
            if (_atLineStart && input[0] == (byte)'.')
                output[written++] = (byte)'.';
            int lf = input.IndexOf((byte)'\n');
            ReadOnlySpan<byte> text = lf < 0 ? input : input[..lf];
            text.CopyTo(output[written..]);
            written += text.Length;
            if (!text.IsEmpty)
                _afterCr = text[^1] == (byte)'\r';
            if (lf < 0)
            {
                _atLineStart = false;
                break;
            }

            if (!_afterCr)
                output[written++] = (byte)'\r';
            output[written++] = (byte)'\n';
            _atLineStart = true;
            _afterCr = false;
            input = input[(lf + 1)..];
        }

        return written;
    }

    /// <summary>The end of DATA: a CRLF if the message did not end with a line break, then <c>.</c> CRLF. At most 5 bytes.</summary>
    public readonly int Finish(Span<byte> output)
    {
        int written = 0;
        if (!_atLineStart)
        {
            if (!_afterCr)
                output[written++] = (byte)'\r';
            output[written++] = (byte)'\n';
        }

        ".\r\n"u8.CopyTo(output[written..]);
        return written + 3;
    }
}
