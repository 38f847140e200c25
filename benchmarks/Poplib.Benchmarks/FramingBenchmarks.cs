using BenchmarkDotNet.Attributes;
using Poplib.Commands;
using Poplib.Framing;

namespace Poplib.Benchmarks;

/// <summary>
/// The framing reader over in-memory server output, down the sync and the async path: what the client
/// spends per status line, per listing line and per body byte once the bytes have arrived. One operation
/// reads a whole workload (see <see cref="Workloads"/>); every benchmark returns the bytes it handed out,
/// which the smoke run checks.
/// </summary>
[MemoryDiagnoser]
public class FramingBenchmarks
{
    private const int MaxLineLength = 8192;
    private readonly byte[] _destination = new byte[64 * 1024];   // RetrTo's copy buffer size

    [Params(false, true)]
    public bool Async { get; set; }

    /// <summary>10,000 RETR status lines (framing only).</summary>
    [Benchmark]
    public async Task<long> StatusLines()
    {
        using var reader = new Pop3Reader(new MemoryStream(Workloads.StatusLines, writable: false), MaxLineLength);
        long bytes = 0;
        for (int i = 0; i < Workloads.StatusLineCount; i++)
            bytes += (await reader.ReadLineAsync(Async, default).ConfigureAwait(false)).Length + 2;
        return bytes;
    }

    /// <summary>10,000 RETR status lines, each parsed into a Pop3Response as the client does.</summary>
    [Benchmark]
    public async Task<long> StatusLinesParsed()
    {
        using var reader = new Pop3Reader(new MemoryStream(Workloads.StatusLines, writable: false), MaxLineLength);
        long bytes = 0;
        for (int i = 0; i < Workloads.StatusLineCount; i++)
        {
            ReadOnlyMemory<byte> line = await reader.ReadLineAsync(Async, default).ConfigureAwait(false);
            if (ReplyParser.TryParseStatus(line.Span, utf8Mode: false) is not { IsOk: true })
                throw new InvalidOperationException("not +OK");
            bytes += line.Length + 2;
        }

        return bytes;
    }

    /// <summary>A LIST reply of 100,000 entries, each line parsed to (number, size).</summary>
    [Benchmark]
    public async Task<long> ListListing()
    {
        using var reader = new Pop3Reader(new MemoryStream(Workloads.ListListing, writable: false), MaxLineLength);
        long bytes = (await reader.ReadLineAsync(Async, default).ConfigureAwait(false)).Length + 2;
        while (true)
        {
            ReadOnlyMemory<byte> line = await reader.ReadLineAsync(Async, default).ConfigureAwait(false);
            bytes += line.Length + 2;
            if (line.Span.SequenceEqual("."u8))
                return bytes;
            if (!ListingParser.TryParseNumberAndSize(line.Span, out _, out _))
                throw new InvalidOperationException("bad LIST line");
        }
    }

    /// <summary>1,000 RETR replies of 4 KiB messages: status line, then the body into a 64 KiB buffer.</summary>
    [Benchmark]
    public Task<long> SmallMessages() => ReadMessages(Workloads.SmallMessages);

    /// <summary>One 5 MiB message with 50 KB lines.</summary>
    [Benchmark]
    public Task<long> LargeMessage() => ReadMessages(Workloads.LargeMessage);

    /// <summary>A 1 MiB message whose every line is dot-stuffed.</summary>
    [Benchmark]
    public Task<long> DotStuffed() => ReadMessages(Workloads.DotStuffed);

    /// <summary>Reads the workload's messages; returns the content bytes handed out (after unstuffing).</summary>
    private async Task<long> ReadMessages(Workloads.Body body)
    {
        using var reader = new Pop3Reader(new MemoryStream(body.Wire, writable: false), MaxLineLength);
        long bytes = 0;
        for (int m = 0; m < body.Messages; m++)
        {
            await reader.ReadLineAsync(Async, default).ConfigureAwait(false);
            reader.BeginBody();
            int read;
            while ((read = await reader.ReadBodyAsync(_destination, Async, default).ConfigureAwait(false)) > 0)
                bytes += read;
        }

        return bytes;
    }

    /// <summary>What each benchmark must return, and the wire bytes it reads (for MB/s).</summary>
    internal static (long Expected, long WireBytes) Expectation(string benchmark) => benchmark switch
    {
        nameof(StatusLines) or nameof(StatusLinesParsed) => (Workloads.StatusLines.Length, Workloads.StatusLines.Length),
        nameof(ListListing) => (Workloads.ListListing.Length, Workloads.ListListing.Length),
        nameof(SmallMessages) => (Workloads.SmallMessages.ContentBytes, Workloads.SmallMessages.Wire.Length),
        nameof(LargeMessage) => (Workloads.LargeMessage.ContentBytes, Workloads.LargeMessage.Wire.Length),
        nameof(DotStuffed) => (Workloads.DotStuffed.ContentBytes, Workloads.DotStuffed.Wire.Length),
        _ => throw new ArgumentOutOfRangeException(nameof(benchmark), benchmark, "no expectation for this benchmark"),
    };
}
