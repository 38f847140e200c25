using System.Text;

namespace Poplib.Testing.Protocol;

/// <summary>A command line longer than the limit: answered with <c>-ERR</c>, then the connection closes.</summary>
internal sealed class CommandTooLongException() : Exception("The command line is too long.");

/// <summary>
/// Reads command lines from the client into one fixed buffer (the line limit plus CRLF), so a client
/// can never make the server hold more. Reads only what the socket has, never waiting for more than
/// one line: pipelined commands stay buffered here and <see cref="HasBufferedInput"/> tells the
/// session whether to flush its replies yet.
/// </summary>
internal sealed class CommandReader(int maxLineLength)
{
    private readonly byte[] _buffer = new byte[Math.Max(maxLineLength + 2, 4096)];
    private int _start;
    private int _end;

    public Stream Stream { get; set; } = Stream.Null;

    public bool HasBufferedInput => _end > _start;

    /// <summary>Drops buffered input: after STLS, bytes sent before the handshake must not count (RFC 2595 section 4, CVE-2011-0411).</summary>
    public void DiscardBufferedInput() => _start = _end = 0;

    /// <summary>Reads and drops one TLS record (the client's ClientHello), within <paramref name="timeout"/>.</summary>
    public async ValueTask SkipTlsRecordAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        byte[] header = new byte[5];
        await Stream.ReadExactlyAsync(header, limit.Token).ConfigureAwait(false);
        await Stream.ReadExactlyAsync(new byte[(header[3] << 8) | header[4]], limit.Token).ConfigureAwait(false);
    }

    /// <summary>Reads one line without its line ending; null when the client closed the connection.</summary>
    public async ValueTask<CommandLine?> ReadLineAsync(CancellationToken cancellationToken)
    {
        int scanned = 0;
        while (true)
        {
            int lf = _buffer.AsSpan(_start + scanned, _end - _start - scanned).IndexOf((byte)'\n');
            if (lf >= 0)
            {
                int end = _start + scanned + lf;
                int length = end - _start;
                if (length > 0 && _buffer[end - 1] == (byte)'\r')
                    length--;
                if (length > maxLineLength)
                    throw new CommandTooLongException();
                var line = new CommandLine(_buffer.AsSpan(_start, length));
                _start = end + 1;
                return line;
            }

            scanned = _end - _start;
            if (scanned > maxLineLength + 1)
                throw new CommandTooLongException();
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            int read = await Stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
                return null;
            _end += read;
        }
    }
}

/// <summary>One line from the client, decoded as UTF-8; <see cref="IsAscii"/> tells whether UTF8 mode was needed for it.</summary>
internal readonly struct CommandLine
{
    public CommandLine(ReadOnlySpan<byte> bytes)
    {
        Text = Encoding.UTF8.GetString(bytes);
        IsAscii = Ascii.IsValid(bytes);
    }

    public string Text { get; }

    public bool IsAscii { get; }
}
