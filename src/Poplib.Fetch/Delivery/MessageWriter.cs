using System.Buffers;
using System.Security.Cryptography;

namespace Poplib.Fetch.Delivery;

/// <summary>
/// A write-only stream that turns a message as POP3 delivers it (CRLF lines, already dot-unstuffed)
/// into its local form: LF line endings, mboxrd <c>From </c>-quoting when asked, a SHA-256 of
/// exactly the bytes written, and a copy of the header block to read the Message-ID from. It works
/// chunk by chunk in constant memory, whatever the chunk boundaries split (a CRLF, a "&gt;From ").
/// </summary>
internal sealed class MessageWriter : Stream
{
    private const int MaxHeaderCapture = 64 * 1024;
    private static readonly byte[] From = "From "u8.ToArray();
    private static readonly SearchValues<byte> LineBreaks = SearchValues.Create("\r\n"u8);

    private const int BufferSize = 32 * 1024;
    private readonly Stream _output;
    // Output is gathered here and written (and hashed) in large pieces: a message arrives as many
    // line-sized spans, and each small file write or hash call has a fixed cost.
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _buffered;
    private readonly bool _quoteFrom;
    private IncrementalHash? _hash = Sha256Pool.Rent();
    // The header block as written, for the Message-ID: pooled, grown on demand up to MaxHeaderCapture.
    private byte[] _header = [];
    private int _headerLength;
    private bool _headerDone;
    private bool _pendingCr;
    private bool _atLineStart = true;
    private long _quoteRun;       // '>' seen at the start of the current line, not yet written
    private int _fromMatched;     // bytes of "From " matched after them
    private byte _last = (byte)'\n';

    public MessageWriter(Stream output, bool quoteFrom)
    {
        _output = output;
        _quoteFrom = quoteFrom;
    }

    /// <summary>Octets written to the output so far.</summary>
    public long Written { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => Written;

    public override long Position { get => Written; set => throw new NotSupportedException(); }

    /// <summary>Writes raw bytes through the hash (used for the mbox From line and separators).</summary>
    public void WriteVerbatim(ReadOnlySpan<byte> bytes) => Emit(bytes);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // The output is a local file: its writes are buffered by FileStream, so the sync path is the fast one.
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            if (_pendingCr)
            {
                _pendingCr = false;
                if (buffer[0] == (byte)'\n')
                {
                    EndLine();
                    buffer = buffer[1..];
                    continue;
                }

                EmitText("\r"u8); // a bare CR is text
            }

            if (_atLineStart && _quoteFrom)
            {
                int used = ScanLineStart(buffer);
                buffer = buffer[used..];
                if (_atLineStart)
                    continue; // the prefix is still undecided (or the line ended)
            }

            int stop = buffer.IndexOfAny(LineBreaks);
            if (stop < 0)
            {
                EmitText(buffer);
                _atLineStart = false;
                return;
            }

            EmitText(buffer[..stop]);
            if (stop > 0)
                _atLineStart = false;
            if (buffer[stop] == (byte)'\r')
                _pendingCr = true;
            else
                EndLine();
            buffer = buffer[(stop + 1)..];
        }
    }

    /// <summary>
    /// Flushes what is held back (a CR at the very end, an undecided line prefix) and returns the
    /// digest. With <paramref name="terminate"/>, also ends the last line if needed and adds mbox's
    /// separating blank line.
    /// </summary>
    public DeliveredContent Complete(bool terminate)
    {
        if (_pendingCr)
        {
            _pendingCr = false;
            EmitText("\r"u8);
        }

        FlushLinePrefix(quote: false);
        if (terminate)
        {
            if (_last != (byte)'\n')
                Emit("\n"u8);
            Emit("\n"u8);
        }

        Drain();
        _output.Flush();
        string digest = Convert.ToHexStringLower(Hash.GetHashAndReset());
        var content = new DeliveredContent(Written, digest, MessageHeaders.FindMessageId(_header.AsSpan(0, _headerLength)));
        // A group holds its messages until it is committed: what they no longer need goes back to
        // the pools now, so that the next message in the group reuses it.
        ReleaseBuffers(hashIsReset: true);
        return content;
    }

    private IncrementalHash Hash => _hash ?? throw new ObjectDisposedException(nameof(MessageWriter), "The message is complete.");

    private int ScanLineStart(ReadOnlySpan<byte> buffer)
    {
        int i = 0;
        while (i < buffer.Length)
        {
            byte b = buffer[i];
            if (_fromMatched == 0 && b == (byte)'>')
            {
                _quoteRun++;
                i++;
                continue;
            }

            if (b == From[_fromMatched])
            {
                _fromMatched++;
                i++;
                if (_fromMatched == From.Length)
                {
                    FlushLinePrefix(quote: true);
                    _atLineStart = false;
                    return i;
                }

                continue;
            }

            // Not a From line: write what was held back and let the caller take the rest of the
            // line, line break included.
            FlushLinePrefix(quote: false);
            _atLineStart = false;
            return i;
        }

        return i;
    }

    private void FlushLinePrefix(bool quote)
    {
        if (quote)
            EmitText(">"u8);
        Span<byte> run = stackalloc byte[64];
        run.Fill((byte)'>');
        while (_quoteRun > 0)
        {
            int n = (int)Math.Min(_quoteRun, run.Length);
            EmitText(run[..n]);
            _quoteRun -= n;
        }

        if (_fromMatched > 0)
        {
            EmitText(From.AsSpan(0, _fromMatched));
            _fromMatched = 0;
        }
    }

    private void EndLine()
    {
        FlushLinePrefix(quote: false);
        EmitText("\n"u8);
        _atLineStart = true;
    }

    private void EmitText(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            return;
        if (!_headerDone)
            CaptureHeader(bytes);
        Emit(bytes);
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            return;
        if (_hash is null)
            throw new ObjectDisposedException(nameof(MessageWriter), "The message is complete.");
        Written += bytes.Length;
        _last = bytes[^1];
        while (!bytes.IsEmpty)
        {
            if (_buffered == _buffer.Length)
                Drain();
            int n = Math.Min(bytes.Length, _buffer.Length - _buffered);
            bytes[..n].CopyTo(_buffer.AsSpan(_buffered));
            _buffered += n;
            bytes = bytes[n..];
        }
    }

    private void Drain()
    {
        if (_buffered == 0)
            return;
        ReadOnlySpan<byte> chunk = _buffer.AsSpan(0, _buffered);
        _output.Write(chunk);
        Hash.AppendData(chunk);
        _buffered = 0;
    }

    private void CaptureHeader(ReadOnlySpan<byte> bytes)
    {
        int before = _headerLength;
        bytes = bytes[..Math.Min(MaxHeaderCapture - before, bytes.Length)];
        if (before + bytes.Length > _header.Length)
            GrowHeader(before + bytes.Length);
        bytes.CopyTo(_header.AsSpan(before));
        _headerLength += bytes.Length;
        // The header ends at the first empty line: look for it in the new bytes (and the one before them).
        int from = Math.Max(0, before - 1);
        ReadOnlySpan<byte> captured = _header.AsSpan(0, _headerLength);
        if (captured.Length >= MaxHeaderCapture || captured[from..].IndexOf("\n\n"u8) >= 0 || captured[0] == (byte)'\n')
            _headerDone = true;
    }

    private void GrowHeader(int needed)
    {
        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Min(MaxHeaderCapture, Math.Max(4096, _header.Length * 2))));
        _header.AsSpan(0, _headerLength).CopyTo(larger);
        if (_header.Length > 0)
            ArrayPool<byte>.Shared.Return(_header);
        _header = larger;
    }

    private void ReleaseBuffers(bool hashIsReset)
    {
        if (_buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        if (_header.Length > 0)
            ArrayPool<byte>.Shared.Return(_header);
        _header = [];
        if (_hash is not null)
            Sha256Pool.Return(_hash, hashIsReset);
        _hash = null;
    }

    public override void Flush()
    {
        Drain();
        _output.Flush();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            ReleaseBuffers(hashIsReset: false);

        base.Dispose(disposing);
    }
}

/// <summary>What was written for one message: its local size, its SHA-256 and its Message-ID (if any).</summary>
/// <summary>What was delivered of a message: its size in the destination's form, the digest of those bytes (SHA-256, hex), its Message-ID.</summary>
/// <param name="Length">The octets written (the destination's form).</param>
/// <param name="Digest">SHA-256 of those octets, in lower-case hex.</param>
/// <param name="MessageId">The header's Message-ID, when it has one.</param>
public readonly record struct DeliveredContent(long Length, string Digest, string? MessageId);
