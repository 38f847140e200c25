namespace Poplib.Transport;

/// <summary>
/// The stream under a TLS stream: passes everything through, and keeps the first octets the server
/// sent during the handshake, so that a handshake that fails can say what the server sent instead
/// of TLS (Courier, refusing, answers with an alert and then <c>-ERR STARTTLS failed: …</c> in plain
/// text; a plain POP3 port answers <c>+OK</c>). Once the handshake is over it only passes through.
/// </summary>
internal sealed class HandshakeRecorder(Stream inner, bool closeInner = true) : Stream
{
    /// <summary>How much of what the server sent during the handshake is kept.</summary>
    public const int Capacity = 512;

    private readonly byte[] _recorded = new byte[Capacity];
    private int _count;
    private bool _recording = true;

    /// <summary>What the server sent during the handshake, up to <see cref="Capacity"/> octets.</summary>
    public ReadOnlySpan<byte> Recorded => _recorded.AsSpan(0, _count);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>The handshake is over: from now on, only pass through.</summary>
    public void StopRecording() => _recording = false;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => Record(buffer, inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Record(buffer.Span, read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && closeInner)
            inner.Dispose();
        base.Dispose(disposing);
    }

    private int Record(Span<byte> buffer, int read)
    {
        if (_recording && read > 0 && _count < Capacity)
        {
            int take = Math.Min(read, Capacity - _count);
            buffer[..take].CopyTo(_recorded.AsSpan(_count));
            _count += take;
        }

        return read;
    }
}
