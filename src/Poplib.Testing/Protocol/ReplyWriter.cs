using System.Text;

namespace Poplib.Testing.Protocol;

/// <summary>
/// Buffers replies and writes them out when the buffer fills or the session asks (when no pipelined
/// command is waiting), so a burst of pipelined commands is answered in few segments. Every line ends
/// with the session's line ending (CRLF, or a bare LF under the <see cref="BareLineFeeds"/> fault).
/// The first status line of each reply passes through the faults' hands (<see cref="BeginReply"/>).
/// Each write to the socket gets its own timeout, so a client that stops reading cannot hold a session.
/// </summary>
internal sealed class ReplyWriter(byte[] lineEnding, TimeSpan writeTimeout, CancellationToken shutdown)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _count;

    public Stream Stream { get; set; } = Stream.Null;

    private Func<string, string>? _statusShape;

    public ReadOnlySpan<byte> LineEnding => lineEnding;

    /// <summary>The status line of the reply begun last (<see cref="BeginReply"/>), as sent; null until it is written.</summary>
    public string? LastStatus { get; private set; }

    /// <summary>Flush right after each status line, so that it travels in a segment of its own (the <see cref="SplitReplies"/> fault).</summary>
    public bool FlushAfterStatus { get; set; }

    /// <summary>
    /// Starts a reply: the next line that begins with <c>+OK</c> or <c>-ERR</c> is its status line, goes
    /// out as <paramref name="shape"/> makes it (the faults' say), and is kept in <see cref="LastStatus"/>.
    /// A SASL challenge (<c>+ </c>) before it is not a status line.
    /// </summary>
    public void BeginReply(Func<string, string> shape)
    {
        _statusShape = shape;
        LastStatus = null;
    }

    public async ValueTask LineAsync(string text)
    {
        if (_statusShape is { } shape && (text.StartsWith("+OK", StringComparison.Ordinal) || text.StartsWith("-ERR", StringComparison.Ordinal)))
        {
            _statusShape = null;
            LastStatus = text = shape(text);
            await WriteLineAsync(text).ConfigureAwait(false);
            if (FlushAfterStatus)
                await FlushAsync().ConfigureAwait(false);
            return;
        }

        await WriteLineAsync(text).ConfigureAwait(false);
    }

    private async ValueTask WriteLineAsync(string text)
    {
        int length = Encoding.UTF8.GetByteCount(text) + lineEnding.Length;
        if (length > _buffer.Length - _count)
            await FlushAsync().ConfigureAwait(false);
        if (length > _buffer.Length)
        {
            // Only an OverlongReply fault makes lines this long: write it straight through.
            await WriteThroughAsync((byte[])[.. Encoding.UTF8.GetBytes(text), .. lineEnding]).ConfigureAwait(false);
            return;
        }

        _count += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_count));
        lineEnding.CopyTo(_buffer.AsSpan(_count));
        _count += lineEnding.Length;
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Length > _buffer.Length - _count)
            await FlushAsync().ConfigureAwait(false);
        if (bytes.Length > _buffer.Length)
        {
            await WriteThroughAsync(bytes).ConfigureAwait(false);
            return;
        }

        bytes.Span.CopyTo(_buffer.AsSpan(_count));
        _count += bytes.Length;
    }

    public async ValueTask FlushAsync()
    {
        if (_count == 0)
            return;
        int count = _count;
        _count = 0;
        await WriteThroughAsync(_buffer.AsMemory(0, count)).ConfigureAwait(false);
    }

    private async ValueTask WriteThroughAsync(ReadOnlyMemory<byte> bytes)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        timeout.CancelAfter(writeTimeout);
        await Stream.WriteAsync(bytes, timeout.Token).ConfigureAwait(false);
        await Stream.FlushAsync(timeout.Token).ConfigureAwait(false);
    }
}
