namespace Poplib.MimeParsing;

/// <summary>
/// What MimeParser reads of a message body: the body stream itself, counted. A parsed MimeMessage
/// holds its parts in memory, so it is bound by the same <see cref="Pop3ClientOptions.MaxInMemoryMessageSize"/>
/// as <see cref="Pop3Client.Retr(int)"/>; past it the connection is closed with
/// <see cref="Pop3LimitExceededException"/>, exactly as Retr does, instead of draining a message that
/// may never end. No bytes are buffered here: MimeParser's own block buffer is the only one.
/// </summary>
internal sealed class InMemoryLimitStream(Pop3MessageStream body, long limit) : Stream
{
    private long _read;

    public override int Read(byte[] buffer, int offset, int count) => Count(body.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Count(body.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Count(int read)
    {
        _read += read;
        if (_read > limit)
        {
            throw body.Fail(new Pop3LimitExceededException(nameof(Pop3ClientOptions.MaxInMemoryMessageSize), limit,
                "Message is larger than the in-memory limit for a parsed MimeMessage; stream it with RetrTo into a file and parse that"));
        }

        return read;
    }

    public override bool CanRead => body.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
