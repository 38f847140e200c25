using System.Text;
using Poplib.Fetch.Delivery.Lmtp;

namespace Poplib.Tests.Lmtp;

public class DotStufferTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "", ".\r\n" },
        { "a\r\nb\r\n", "a\r\nb\r\n.\r\n" },
        { "a\nb\n", "a\r\nb\r\n.\r\n" },
        { "no newline", "no newline\r\n.\r\n" },
        { ".\r\n", "..\r\n.\r\n" },
        { ".", "..\r\n.\r\n" },
        { "x\n.\n..\n.y\n", "x\r\n..\r\n...\r\n..y\r\n.\r\n" },
        { "ends in CR\r", "ends in CR\r\n.\r\n" },
        { "bare\rCR\r\n", "bare\rCR\r\n.\r\n" },
        { "\n\n", "\r\n\r\n.\r\n" },
        { "a.\r\n b", "a.\r\n b\r\n.\r\n" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Makes_data_form_whole_and_in_pieces(string message, string expected)
    {
        byte[] input = Encoding.UTF8.GetBytes(message);
        Assert.Equal(expected, Stuff(input, input.Length));
        Assert.Equal(expected, Stuff(input, 1));
        Assert.Equal(expected, Stuff(input, 2));
    }

    [Fact]
    public void The_worst_case_fits_the_bound()
    {
        byte[] input = Encoding.ASCII.GetBytes(new string('\n', 1000));
        var output = new byte[DotStuffer.MaxOutput(input.Length)];
        Assert.Equal(2000, new DotStuffer().Transform(input, output));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_scan_predicts_the_size_without_stuffing(string message, string expected)
    {
        byte[] input = Encoding.UTF8.GetBytes(message);
        var stream = new MemoryStream(input);
        MessageScan scan = MessageScan.Read(stream, 512);
        Assert.Equal(0, stream.Position);
        string unstuffed = expected[..^3].Replace("\r\n.", "\r\n", StringComparison.Ordinal);
        if (unstuffed.StartsWith('.'))
            unstuffed = unstuffed[1..];
        Assert.Equal(Encoding.UTF8.GetByteCount(unstuffed), scan.Size);
        Assert.False(scan.HasEightBit);
    }

    [Fact]
    public void The_scan_finds_eight_bit_bytes()
    {
        Assert.True(MessageScan.Read(new MemoryStream(Encoding.UTF8.GetBytes("Grüße\r\n")), 512).HasEightBit);
    }

    private static string Stuff(byte[] input, int chunk)
    {
        var stuffer = new DotStuffer();
        var all = new List<byte>();
        var output = new byte[DotStuffer.MaxOutput(chunk) + 5];
        for (int i = 0; i < input.Length; i += chunk)
        {
            int n = stuffer.Transform(input.AsSpan(i, Math.Min(chunk, input.Length - i)), output);
            all.AddRange(output.AsSpan(0, n));
        }

        all.AddRange(output.AsSpan(0, stuffer.Finish(output)));
        return Encoding.UTF8.GetString([.. all]);
    }
}
