namespace Poplib.Tests.OverStream;

/// <summary>
/// A stream that hides what is under it (as an SSH channel or a pipe would): only the synchronous
/// Read and Write are overridden, so its async reads are the base class's, which ignore a
/// cancellation token once started — the hardest case for the client's timeouts.
/// </summary>
internal sealed class OpaqueStream(Stream inner) : Stream
{
    public bool Disposed { get; private set; }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Disposed = true;
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
