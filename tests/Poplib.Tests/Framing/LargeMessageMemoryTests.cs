using System.Diagnostics;
using System.Text;
using Poplib.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Poplib.Tests.Framing;

[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;

/// <summary>
/// A 200 MB message streamed with RetrTo must not grow the process by more than 16 MB. Runs alone so
/// that no other test's allocations are counted.
/// </summary>
[Collection(nameof(MemoryMeasurement))]
public class LargeMessageMemoryTests(ITestOutputHelper output)
{
    private const long MessageSize = 200L * 1024 * 1024;
    private const long Budget = 16L * 1024 * 1024;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RetrTo_streams_200_MB_in_constant_memory(bool async)
    {
        // 64 KiB of wire lines, every other one dot-stuffed, sent again and again.
        var wireBlock = new StringBuilder();
        int stuffedLines = 0;
        for (int i = 0; wireBlock.Length < 64 * 1024 - 200; i++)
        {
            string line = $"line {i:D6} of a large message, with some text to make it realistic";
            if (i % 2 == 0)
            {
                wireBlock.Append('.');
                stuffedLines++;
            }

            wireBlock.Append(line).Append("\r\n");
        }

        byte[] wire = Encoding.ASCII.GetBytes(wireBlock.ToString());
        long blocks = MessageSize / wire.Length;
        // Each stuffed line loses its leading dot.
        long expected = blocks * (wire.Length - stuffedLines);

        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1").Send("+OK").Do(async (stream, ct) =>
        {
            for (long b = 0; b < blocks; b++)
                await stream.WriteAsync(wire, ct);
            await stream.WriteAsync("\r\n.\r\n"u8.ToArray(), ct);
        }));
        // The block ends in CRLF, so the extra CRLF above is one more (empty) body line.
        expected += 2;

        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());
        client.User("alice");
        client.Pass("secret");
        var sink = new CountingStream();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long workingSetBefore = Process.GetCurrentProcess().WorkingSet64;
        using var sampler = new PeakSampler();

        long octets = await Both.Run(async, () => client.RetrTo(1, sink), () => client.RetrToAsync(1, sink));

        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        long peakGrowth = sampler.Stop() - workingSetBefore;
        output.WriteLine($"octets {octets:N0}, allocated {allocated:N0} bytes, peak working-set growth {peakGrowth:N0} bytes");

        Assert.Equal(expected, octets);
        Assert.Equal(expected, sink.Count);
        Assert.True(octets > MessageSize * 9 / 10);
        Assert.InRange(allocated, 0, Budget);
        Assert.InRange(peakGrowth, long.MinValue, Budget);
    }

    private sealed class CountingStream : Stream
    {
        public long Count { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Count;

        public override long Position { get => Count; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Count += count;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Count += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}
