using Microsoft.Win32.SafeHandles;

namespace Poplib.Testing.Mailboxes;

/// <summary>
/// Reads the bytes <c>[start, end)</c> of a file, leaving out single bytes at the given offsets (the
/// quoting <c>&gt;</c> of mbox lines). Positional reads: nothing but the current offset is kept.
/// </summary>
internal sealed class FileRangeStream(string path, long start, long end, long[] skippedOffsets) : Stream
{
    private readonly SafeFileHandle _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
    private long _position = start;
    private int _nextSkip;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int count = NextReadLength(buffer.Length);
        if (count == 0)
            return 0;
        int read = await RandomAccess.ReadAsync(_handle, buffer[..count], _position, cancellationToken).ConfigureAwait(false);
        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(Span<byte> buffer)
    {
        int count = NextReadLength(buffer.Length);
        if (count == 0)
            return 0;
        int read = RandomAccess.Read(_handle, buffer[..count], _position);
        _position += read;
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _handle.Dispose();
        base.Dispose(disposing);
    }

    // Steps over skipped bytes and returns how much can be read before the next one.
    private int NextReadLength(int wanted)
    {
        while (_nextSkip < skippedOffsets.Length && skippedOffsets[_nextSkip] <= _position)
        {
            if (skippedOffsets[_nextSkip] == _position)
                _position++;
            _nextSkip++;
        }

        long limit = _nextSkip < skippedOffsets.Length ? Math.Min(end, skippedOffsets[_nextSkip]) : end;
        return (int)Math.Clamp(limit - _position, 0, wanted);
    }
}
