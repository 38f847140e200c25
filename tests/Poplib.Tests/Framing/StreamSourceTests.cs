using System.Text;
using Poplib.Framing;

namespace Poplib.Tests.Framing;

/// <summary>
/// The reader over a plain <see cref="Stream"/> (the seam the micro-benchmarks use) frames exactly as it
/// does over a connection: status lines, dot-unstuffed bodies, and an early end of stream is an error.
/// </summary>
public class StreamSourceTests
{
    private const string Wire =
        "+OK 3 octets\r\n" +
        "Subject: x\r\n\r\n..dot\r\n.\r\n" +
        "+OK next\r\n";

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Frames_a_status_line_a_stuffed_body_and_the_next_line(bool async, bool oneByteReads)
    {
        Stream source = new MemoryStream(Encoding.ASCII.GetBytes(Wire));
        if (oneByteReads)
            source = new OneByteStream(source);
        using var reader = new Pop3Reader(source, maxLineLength: 8192);

        Assert.Equal("+OK 3 octets", Encoding.ASCII.GetString((await reader.ReadLineAsync(async, default)).Span));
        reader.BeginBody();
        var body = new MemoryStream();
        var buffer = new byte[7];
        int read;
        while ((read = await reader.ReadBodyAsync(buffer, async, default)) > 0)
            body.Write(buffer, 0, read);
        Assert.Equal("Subject: x\r\n\r\n.dot\r\n", Encoding.ASCII.GetString(body.ToArray()));
        Assert.False(reader.InBody);
        Assert.Equal("+OK next", Encoding.ASCII.GetString((await reader.ReadLineAsync(async, default)).Span));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_cut_short_by_the_end_of_the_stream_is_a_protocol_error(bool async)
    {
        using var reader = new Pop3Reader(new MemoryStream("line\r\n"u8.ToArray()), maxLineLength: 8192);
        reader.BeginBody();
        var buffer = new byte[64];
        await Assert.ThrowsAsync<Pop3ProtocolException>(async () =>
        {
            while (await reader.ReadBodyAsync(buffer, async, default) > 0)
            {
            }
        });
    }

    private sealed class OneByteStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 1));
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer[..Math.Min(buffer.Length, 1)], cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
