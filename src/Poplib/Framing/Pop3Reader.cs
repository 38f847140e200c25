using System.Buffers;
using Poplib.Transport;

namespace Poplib.Framing;

/// <summary>
/// Frames the server's byte stream into status lines, listing lines and dot-unstuffed message bodies,
/// from one pooled buffer. Lines handed out point into that buffer and stay valid only until the next
/// read. Message bodies are copied straight from the buffer to the caller's memory, so body lines may
/// be of any length and no per-line object is made. For TOP the body ends after the header and the
/// lines asked for (<see cref="TopLineCounter"/>); what follows is read and dropped, within a bound.
/// </summary>
internal sealed class Pop3Reader : IDisposable
{
    // Large enough that a big message arrives in few reads; small enough to pool.
    private const int MinimumBufferSize = 64 * 1024;

    private readonly Pop3Transport? _transport;
    private readonly Stream? _source;
    private readonly int _maxLineLength;
    private byte[] _buffer;
    private int _start;
    private int _end;

    // Body state: whether the next byte begins a line (only there can a '.' be stuffing or the terminator).
    private bool _atLineStart;
    private bool _inBody;

    // TOP: where the lines asked for end (null for RETR), and whether that point has passed, so that
    // the rest is read and dropped up to the terminator, but no more than the bound.
    private TopLineCounter? _topLines;
    private bool _discarding;
    private long _maxExcess;

    public Pop3Reader(Pop3Transport transport, int maxLineLength)
        : this(maxLineLength) => _transport = transport;

    /// <summary>
    /// Called before every read from the network, so that commands queued while replies were being
    /// consumed from the buffer go out just before the client would otherwise wait for the server.
    /// </summary>
    public Func<bool, CancellationToken, ValueTask>? BeforeNetworkRead { get; set; }

    /// <summary>Reads from a plain stream instead of a connection: for tests and benchmarks over in-memory data.</summary>
    internal Pop3Reader(Stream source, int maxLineLength)
        : this(maxLineLength) => _source = source;

    private Pop3Reader(int maxLineLength)
    {
        _maxLineLength = maxLineLength;
        // A whole line plus its CRLF must fit, so that a line is always handed out in one piece.
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(MinimumBufferSize, maxLineLength + 2));
    }

    /// <summary>Bytes received but not yet consumed.</summary>
    public int BufferedCount => _end - _start;

    /// <summary>Whether a body has been started and its terminator not yet reached.</summary>
    public bool InBody => _inBody;

    /// <summary>
    /// Reads one line and returns it without its line ending (CRLF, or a bare LF from a sloppy server).
    /// Throws <see cref="Pop3LimitExceededException"/> when no line ending comes within the limit.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadLineAsync(bool async, CancellationToken cancellationToken)
    {
        int scanned = 0;
        while (true)
        {
            if (TryTakeLine(scanned, out ReadOnlyMemory<byte> line))
                return line;
            scanned = _end - _start;
            if (!await FillAsync(async, cancellationToken).ConfigureAwait(false))
                throw new Pop3ProtocolException("The server closed the connection in the middle of a reply line.");
        }
    }

    /// <summary>
    /// Takes one line from what is buffered, without waiting, when a whole line is there: the fast path
    /// of <see cref="ReadLineAsync"/>. It needs no state machine, so a listing of millions of lines
    /// costs no allocation per line (async methods box theirs in Debug builds, and awaiting costs too).
    /// </summary>
    public bool TryReadLine(out ReadOnlyMemory<byte> line) => TryTakeLine(0, out line);

    /// <summary>The octets, line ending included, of the line read last.</summary>
    public int LastLineOctets { get; private set; }

    // Scanning resumes after the bytes already known to hold no LF, so a line that arrives in many
    // small pieces is not searched again from its start each time.
    private bool TryTakeLine(int scanned, out ReadOnlyMemory<byte> line)
    {
        int lf = _buffer.AsSpan(_start + scanned, _end - _start - scanned).IndexOf((byte)'\n');
        if (lf < 0)
        {
            if (_end - _start > _maxLineLength + 1)
                throw LineTooLong();
            line = default;
            return false;
        }

        int length = scanned + lf;
        line = new ReadOnlyMemory<byte>(_buffer, _start, length);
        _start += length + 1;
        LastLineOctets = length + 1;
        if (length > 0 && line.Span[length - 1] == (byte)'\r')
            line = line[..(length - 1)];
        if (line.Length > _maxLineLength)
            throw LineTooLong();
        return true;
    }

    /// <summary>
    /// Starts reading a dot-stuffed body that ends with a line holding only '.'. For TOP,
    /// <paramref name="topLines"/> is the number of body lines asked for: the body then ends after the
    /// header and that many lines, and what the server sends beyond them is dropped, up to
    /// <paramref name="maxExcess"/> octets (past that, <see cref="Pop3LimitExceededException"/>).
    /// </summary>
    public void BeginBody(int? topLines = null, long maxExcess = 0)
    {
        _inBody = true;
        _atLineStart = true;
        _topLines = topLines is int lines ? new TopLineCounter(lines) : null;
        _discarding = false;
        _maxExcess = maxExcess;
        ExcessOctets = 0;
    }

    /// <summary>The octets of the current (or last) TOP body dropped past the lines asked for.</summary>
    public long ExcessOctets { get; private set; }

    /// <summary>
    /// Copies the next bytes of the current body into <paramref name="destination"/>, with the leading
    /// dot of stuffed lines removed and line endings kept as received. Returns 0 once the terminator
    /// has been read. Returns what is buffered rather than waiting for more once anything is copied.
    /// </summary>
    public async ValueTask<int> ReadBodyAsync(Memory<byte> destination, bool async, CancellationToken cancellationToken)
    {
        if (!_inBody || destination.Length == 0)
            return 0;

        int written = 0;
        while (written < destination.Length)
        {
            int available = _end - _start;
            if (_atLineStart && available > 0 && _buffer[_start] == (byte)'.')
            {
                // A line that starts with '.' is either the terminator (".\r\n" or a bare ".\n") or
                // stuffed: RFC 1939 says to drop the first '.', whatever follows it.
                if (available < 2 || (_buffer[_start + 1] == (byte)'\r' && available < 3))
                {
                    if (written > 0)
                        break;
                    await FillOrThrowAsync(async, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                byte next = _buffer[_start + 1];
                if (next == (byte)'\n' || (next == (byte)'\r' && _buffer[_start + 2] == (byte)'\n'))
                {
                    _start += next == (byte)'\n' ? 2 : 3;
                    _inBody = false;
                    break;
                }

                _start++;
                _atLineStart = false;
                continue;
            }

            if (available == 0)
            {
                if (written > 0)
                    break;
                await FillOrThrowAsync(async, cancellationToken).ConfigureAwait(false);
                continue;
            }

            // Copy up to the next line that starts with '.', the only place where anything needs doing:
            // one vectorised search covers many ordinary lines. Bytes being dropped need no room.
            var chunk = _buffer.AsSpan(_start, _discarding ? available : Math.Min(available, destination.Length - written));
            int dotLine = chunk.IndexOf("\n."u8);
            int count = dotLine >= 0 ? dotLine + 1 : chunk.Length;
            if (_discarding)
            {
                ExcessOctets += count;
                if (ExcessOctets > _maxExcess)
                    throw new Pop3LimitExceededException(nameof(Pop3ClientOptions.MaxTopExcessOctets), _maxExcess, "The server sent more of the message than TOP asked for, past the limit");
            }
            else
            {
                // Only TOP pays for counting lines, and only until the lines asked for are in.
                if (_topLines is { } top)
                {
                    TopLineCounter counter = top;
                    count = counter.Keep(chunk[..count], out _discarding);
                    _topLines = counter;
                }

                chunk[..count].CopyTo(destination.Span[written..]);
                written += count;
            }

            _atLineStart = chunk[count - 1] == (byte)'\n';
            _start += count;
        }

        return written;
    }

    private async ValueTask FillOrThrowAsync(bool async, CancellationToken cancellationToken)
    {
        if (!await FillAsync(async, cancellationToken).ConfigureAwait(false))
            throw new Pop3ProtocolException("The server closed the connection before the end of the message (no terminating '.' line): the message is incomplete.");
    }

    /// <summary>Reads more bytes after those buffered. Returns false at end of stream.</summary>
    private async ValueTask<bool> FillAsync(bool async, CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            _start = 0;
            _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (BeforeNetworkRead is { } beforeRead)
            await beforeRead(async, cancellationToken).ConfigureAwait(false);
        int read = _transport is not null
            ? await _transport.ReadAsync(_buffer.AsMemory(_end), async, cancellationToken).ConfigureAwait(false)
            : async
                ? await _source!.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false)
                : _source!.Read(_buffer, _end, _buffer.Length - _end);
        _end += read;
        return read > 0;
    }

    private Pop3LimitExceededException LineTooLong() =>
        new(nameof(Pop3ClientOptions.MaxLineLength), _maxLineLength, "The server sent a reply line longer than the limit");

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _start = _end = 0;
        if (buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(buffer);
    }
}
