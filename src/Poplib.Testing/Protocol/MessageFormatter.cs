namespace Poplib.Testing.Protocol;

/// <summary>
/// Turns a stored message (LF or CRLF line endings, any line length) into what goes on the wire: every
/// line ended by the session's line ending, a leading '.' doubled when dot-stuffing, a last line
/// without an ending closed, and for TOP everything after the requested number of body lines dropped.
/// A pure state machine over chunks, so messages stream from files in constant memory; LIST sizes are
/// measured with the same code (<see cref="MeasureAsync"/>), which is what keeps them equal to what
/// RETR sends.
/// </summary>
internal sealed class MessageFormatter
{
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();

    private readonly byte[] _lineEnding;
    private readonly bool _dotStuff;
    private long _bodyLinesLeft;   // -1: no limit (RETR)
    private bool _atLineStart = true;
    private bool _pendingCr;       // a CR at the end of a chunk: part of CRLF, or a bare CR in the text
    private long _lineLength;
    private bool _headerDone;

    public MessageFormatter(ReadOnlySpan<byte> lineEnding, bool dotStuff, long bodyLines = -1)
    {
        _lineEnding = lineEnding.ToArray();
        _dotStuff = dotStuff;
        _bodyLinesLeft = bodyLines;
    }

    /// <summary>Set once TOP's line count is reached: the rest of the input is not wanted.</summary>
    public bool IsComplete { get; private set; }

    /// <summary>The output room <see cref="Transform"/> needs for an input of this length.</summary>
    public static int MaxOutputLength(int inputLength) => (2 * inputLength) + 8;

    /// <summary>
    /// Formats <paramref name="input"/> into <paramref name="output"/> (at least
    /// <see cref="MaxOutputLength"/> long) and returns the octets written. Consumes all the input
    /// unless <see cref="IsComplete"/> becomes true.
    /// </summary>
    public int Transform(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int i = 0;
        int o = 0;
        while (i < input.Length)
        {
            if (_atLineStart)
            {
                if (_headerDone && _bodyLinesLeft == 0)
                {
                    IsComplete = true;
                    return o;
                }

                if (_dotStuff && input[i] == (byte)'.')
                    output[o++] = (byte)'.';
                _atLineStart = false;
                _lineLength = 0;
            }

            if (_pendingCr)
            {
                _pendingCr = false;
                if (input[i] != (byte)'\n')
                {
                    output[o++] = (byte)'\r';
                    _lineLength++;
                }
            }

            int lf = input[i..].IndexOf((byte)'\n');
            ReadOnlySpan<byte> content = lf < 0 ? input[i..] : input.Slice(i, lf);
            if (content.Length > 0 && content[^1] == (byte)'\r')
            {
                content = content[..^1];
                _pendingCr = lf < 0; // at a chunk's end we cannot know yet whether an LF follows
            }

            content.CopyTo(output[o..]);
            o += content.Length;
            _lineLength += content.Length;
            if (lf < 0)
                break;

            o += EndLine(output[o..]);
            i += lf + 1;
        }

        return o;
    }

    /// <summary>Closes a last line that has no line ending; returns the octets written.</summary>
    public int Finish(Span<byte> output)
    {
        if (IsComplete)
            return 0;
        int o = 0;
        if (_pendingCr)
        {
            output[o++] = (byte)'\r';
            _pendingCr = false;
        }

        return _atLineStart ? o : o + EndLine(output[o..]);
    }

    /// <summary>The size of a message in CRLF form, not dot-stuffed: what LIST reports and RETR sends before stuffing.</summary>
    /// <param name="source">The stored message, read to its end.</param>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <param name="hash">If given, also fed the stored bytes (for content-derived UIDs).</param>
    public static async ValueTask<long> MeasureAsync(Stream source, CancellationToken cancellationToken, System.Security.Cryptography.IncrementalHash? hash = null)
    {
        var formatter = new MessageFormatter(Crlf, dotStuff: false);
        byte[] input = new byte[16 * 1024];
        byte[] output = new byte[MaxOutputLength(input.Length)];
        long size = 0;
        int read;
        while ((read = await source.ReadAsync(input, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash?.AppendData(input, 0, read);
            size += formatter.Transform(input.AsSpan(0, read), output);
        }

        return size + formatter.Finish(output);
    }

    /// <summary>The size of an in-memory message in CRLF form.</summary>
    public static long Measure(ReadOnlySpan<byte> content)
    {
        var formatter = new MessageFormatter(Crlf, dotStuff: false);
        byte[] output = new byte[MaxOutputLength(Math.Min(content.Length, 16 * 1024))];
        long size = 0;
        for (int i = 0; i < content.Length; i += 16 * 1024)
            size += formatter.Transform(content.Slice(i, Math.Min(16 * 1024, content.Length - i)), output);
        return size + formatter.Finish(output);
    }

    private int EndLine(Span<byte> output)
    {
        _lineEnding.CopyTo(output);
        if (!_headerDone)
            _headerDone = _lineLength == 0; // the empty line between header and body
        else if (_bodyLinesLeft > 0)
            _bodyLinesLeft--;
        _atLineStart = true;
        return _lineEnding.Length;
    }
}
