using System.Text;

namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>
/// Frames the server's bytes into replies (RFC 5321 section 4.2): lines of a three-digit code, then
/// <c>-</c> for a line that is followed by more, or a space (or nothing) for the last. Each line is
/// bounded (<see cref="LmtpClientOptions.MaxReplyLineLength"/>), each reply's number of lines too
/// (<see cref="LmtpClientOptions.MaxReplyLines"/>), and each reply must be complete by a deadline.
/// Anything else is an <see cref="LmtpProtocolException"/>.
/// </summary>
internal sealed class LmtpReplyReader
{
    private readonly LmtpTransport _transport;
    private readonly int _maxLineLength;
    private readonly int _maxLines;
    private readonly byte[] _buffer;
    private int _start;
    private int _end;

    public LmtpReplyReader(LmtpTransport transport, int maxLineLength, int maxLines)
    {
        _transport = transport;
        _maxLineLength = maxLineLength;
        _maxLines = maxLines;
        // A whole line and its CRLF always fit, so a line is never split across refills.
        _buffer = new byte[Math.Max(4096, maxLineLength + 2)];
    }

    /// <summary>Reads one whole reply; it must be complete within <paramref name="timeout"/>.</summary>
    public async ValueTask<LmtpReply> ReadReplyAsync(TimeSpan timeout, bool enhancedCodes, bool async, CancellationToken cancellationToken)
    {
        long deadline = Environment.TickCount64 + (long)Math.Min(timeout.TotalMilliseconds, long.MaxValue / 4);
        var lines = new List<string>();
        int code = 0;
        while (true)
        {
            ReadOnlyMemory<byte> line = await ReadLineAsync(deadline, timeout, async, cancellationToken).ConfigureAwait(false);
            (int lineCode, bool last, string text) = ParseLine(line.Span);
            if (lines.Count == 0)
                code = lineCode;
            else if (lineCode != code)
                throw new LmtpProtocolException($"The LMTP server changed the code within one reply, from {code} to {lineCode}: \"{Escape(line.Span)}\"; the connection is closed.");
            lines.Add(text);
            if (last)
                break;
            if (lines.Count >= _maxLines)
                throw new LmtpLimitExceededException(nameof(LmtpClientOptions.MaxReplyLines), _maxLines, "The LMTP server's reply had too many lines");
        }

        string? enhanced = enhancedCodes ? TakeEnhancedCode(code, lines) : null;
        return new LmtpReply(code, enhanced, lines);
    }

    private async ValueTask<ReadOnlyMemory<byte>> ReadLineAsync(long deadline, TimeSpan timeout, bool async, CancellationToken cancellationToken)
    {
        int scanned = 0;
        while (true)
        {
            int lf = _buffer.AsSpan(_start + scanned, _end - _start - scanned).IndexOf((byte)'\n');
            if (lf >= 0)
            {
                int length = scanned + lf;
                var line = new ReadOnlyMemory<byte>(_buffer, _start, length);
                _start += length + 1;
                if (length > 0 && line.Span[length - 1] == (byte)'\r')
                    line = line[..(length - 1)];
                if (line.Length > _maxLineLength)
                    throw LineTooLong();
                return line;
            }

            scanned = _end - _start;
            if (scanned > _maxLineLength + 1)
                throw LineTooLong();
            if (_start > 0)
            {
                _buffer.AsSpan(_start, scanned).CopyTo(_buffer);
                _start = 0;
                _end = scanned;
            }

            int read = await _transport.ReadAsync(_buffer.AsMemory(_end), deadline, timeout, async, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new LmtpProtocolException(scanned == 0
                    ? $"The LMTP server {_transport} closed the connection instead of replying."
                    : $"The LMTP server {_transport} closed the connection in the middle of a reply line.");
            }

            _end += read;
        }
    }

    private LmtpLimitExceededException LineTooLong() =>
        new(nameof(LmtpClientOptions.MaxReplyLineLength), _maxLineLength, "The LMTP server sent a reply line longer than the limit, in octets");

    // "250-text", "250 text" or "250": the code (200..599), whether the reply ends here, the text.
    private static (int Code, bool Last, string Text) ParseLine(ReadOnlySpan<byte> line)
    {
        if (line.Length < 3 || !IsDigit(line[0], '2', '5') || !IsDigit(line[1], '0', '9') || !IsDigit(line[2], '0', '9')
            || (line.Length > 3 && line[3] != (byte)' ' && line[3] != (byte)'-'))
        {
            throw new LmtpProtocolException($"The LMTP server sent something that is not a reply: \"{Escape(line)}\"; the connection is closed.");
        }

        int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        bool last = line.Length == 3 || line[3] == (byte)' ';
        return (code, last, line.Length > 4 ? Escape(line[4..], int.MaxValue) : "");
    }

    private static bool IsDigit(byte b, char low, char high) => b >= low && b <= high;

    /// <summary>
    /// RFC 2034: each line's text starts with <c>class.subject.detail</c>, whose class is the reply's
    /// first digit. Taken off every line that has it; the first line's is returned.
    /// </summary>
    private static string? TakeEnhancedCode(int code, List<string> lines)
    {
        string? first = null;
        for (int i = 0; i < lines.Count; i++)
        {
            string text = lines[i];
            int space = text.IndexOf(' ', StringComparison.Ordinal);
            string candidate = space < 0 ? text : text[..space];
            if (!IsEnhancedCode(candidate, code / 100))
                continue;
            first ??= candidate;
            lines[i] = space < 0 ? "" : text[(space + 1)..];
        }

        return first;
    }

    private static bool IsEnhancedCode(string text, int replyClass)
    {
        string[] parts = text.Split('.');
        return parts.Length == 3
            && parts[0].Length == 1 && parts[0][0] - '0' == replyClass
            && parts[1].Length is >= 1 and <= 3 && parts[1].All(char.IsAsciiDigit)
            && parts[2].Length is >= 1 and <= 3 && parts[2].All(char.IsAsciiDigit);
    }

    /// <summary>Server text as it may be shown: UTF-8 (invalid bytes replaced), control characters as <c>\xNN</c>.</summary>
    internal static string Escape(ReadOnlySpan<byte> bytes, int maxLength = 300)
    {
        string text = Encoding.UTF8.GetString(bytes.Length > maxLength ? bytes[..maxLength] : bytes);
        var shown = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (char.IsControl(c))
                shown.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            else
                shown.Append(c);
        }

        if (bytes.Length > maxLength)
            shown.Append('…');
        return shown.ToString();
    }
}
