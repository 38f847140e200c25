using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Poplib.Cli.Output;

/// <summary>
/// Standard output closed under us: <c>poplib retr 1 | head -1</c> once head has what it wants. The
/// command stops at once, like Unix tools killed by SIGPIPE: it drops the connection without QUIT
/// (nothing of the session is committed) and exits with 141 (128 + SIGPIPE) without a message. An
/// <see cref="OperationCanceledException"/>, so that the library abandons the message in flight
/// instead of reading the rest of it to keep the session in step.
/// </summary>
internal sealed class BrokenPipeException() : OperationCanceledException("standard output was closed (broken pipe)");

/// <summary>
/// Standard output that notices a closed pipe. .NET's console streams ignore EPIPE and report the
/// write as done, so a 200 MB message would be read to its end into nothing; this writes to file
/// descriptor 1 directly and turns EPIPE into <see cref="BrokenPipeException"/>.
/// </summary>
internal sealed class StandardOutputStream : Stream
{
    private const int BrokenPipe = 32; // EPIPE on Linux and macOS
    private readonly Stream _inner;

    private StandardOutputStream(Stream inner) => _inner = inner;

    /// <summary>Standard output as a stream (the console's own on Windows, where there is no EPIPE to miss).</summary>
    public static Stream Open()
    {
        if (OperatingSystem.IsWindows())
            return Console.OpenStandardOutput();
        try
        {
            var descriptor = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
            if (!descriptor.CanSeek)
                return new StandardOutputStream(descriptor);

            // A regular file (poplib retr 1 > message.eml): a FileStream writes it at a position of its
            // own (pwrite) and leaves the descriptor's offset behind, so whatever the shell writes next into
            // the same file ({ poplib retr 1; poplib retr 2; } > both.eml) would land on top of it. The
            // console's stream writes at the shared offset; and a file has no EPIPE to miss.
            descriptor.Dispose();
            return Console.OpenStandardOutput();
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return Console.OpenStandardOutput(); // no usable descriptor 1: the console's stream copes
        }
    }

    /// <summary>A text writer over <paramref name="stream"/> as Console.Out would be: UTF-8, flushed at every write, thread-safe.</summary>
    public static TextWriter Writer(Stream stream) =>
        TextWriter.Synchronized(new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 4096, leaveOpen: true) { AutoFlush = true });

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try
        {
            _inner.Write(buffer);
        }
        catch (IOException e) when (e.HResult == BrokenPipe)
        {
            throw new BrokenPipeException();
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await _inner.WriteAsync(buffer, cancellationToken);
        }
        catch (IOException e) when (e.HResult == BrokenPipe)
        {
            throw new BrokenPipeException();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        // Standard output outlives every command; it is never closed here.
        base.Dispose(disposing);
    }
}

/// <summary>
/// For commands whose output is a report on work that must go on (fetch, serve, demo): a closed
/// standard output silences the report but never stops the work.
/// </summary>
internal sealed class ClosedPipeTolerantWriter(TextWriter inner) : TextWriter
{
    private volatile bool _closed;

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value) => Try(() => inner.Write(value));

    public override void Write(string? value) => Try(() => inner.Write(value));

    public override void Write(char[] buffer, int index, int count) => Try(() => inner.Write(buffer, index, count));

    public override void WriteLine(string? value) => Try(() => inner.WriteLine(value));

    public override void Flush() => Try(inner.Flush);

    private void Try(Action write)
    {
        if (_closed)
            return;
        try
        {
            write();
        }
        catch (BrokenPipeException)
        {
            _closed = true;
        }
    }
}
