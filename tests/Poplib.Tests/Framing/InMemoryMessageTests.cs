using System.Text;
using Poplib.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Poplib.Tests.Framing;

/// <summary>
/// Retr and Top into memory: the buffer is sized from the server's "+OK n octets" (a hint, capped by
/// the limit), never grows past the limit, and the lines of a message cost no memory of their own.
/// </summary>
[Collection(nameof(MemoryMeasurement))]
public class InMemoryMessageTests(ITestOutputHelper output)
{
    private const int MiB = 1024 * 1024;

    private static Task<Pop3Client> LoggedIn(bool async, ScriptedServer server, long limit = 64L * MiB)
    {
        Pop3ClientOptions options = Both.Plain();
        options.MaxInMemoryMessageSize = limit;
        return Both.LogIn(async, server.Port, options);
    }

    /// <summary>A message body of <paramref name="size"/> octets in 100-octet CRLF lines, and its wire form.</summary>
    private static (byte[] Content, byte[] Wire) Message(int size, string status)
    {
        byte[] content = new byte[size];
        for (int i = 0; i < size; i++)
            content[i] = i % 100 == 98 ? (byte)'\r' : i % 100 == 99 ? (byte)'\n' : (byte)('a' + i % 26);
        "\r\n"u8.CopyTo(content.AsSpan(size - 2));
        byte[] wire = [.. Encoding.ASCII.GetBytes(status + "\r\n"), .. content, .. ".\r\n"u8];
        return (content, wire);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_announced_size_makes_one_buffer_of_the_right_size(bool async)
    {
        var (content, wire) = Message(6 * MiB, $"+OK {6 * MiB} octets");
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1").SendRaw(wire));
        using Pop3Client client = await LoggedIn(async, server);

        var (message, allocated) = await Allocations.Measure(() => Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1)));
        output.WriteLine($"6 MiB with its size announced: allocated {allocated:N0} bytes");

        Assert.True(message.Content.Span.SequenceEqual(content));
        Assert.InRange(allocated, 0, 6L * MiB + MiB / 2);
    }

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, null)]
    [InlineData(false, "+OK 10 octets")]
    [InlineData(true, "+OK 10 octets")]
    [InlineData(false, "+OK 999999999999 octets")]
    [InlineData(true, "+OK 999999999999 octets")]
    public async Task A_missing_or_false_size_still_gives_the_whole_message(bool async, string? status)
    {
        var (content, wire) = Message(3 * MiB + 17, status ?? "+OK message follows");
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1").SendRaw(wire).On("NOOP", "+OK"));
        using Pop3Client client = await LoggedIn(async, server, limit: 8L * MiB);

        var (message, allocated) = await Allocations.Measure(() => Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1)));
        output.WriteLine($"3 MiB announced as \"{status}\": allocated {allocated:N0} bytes");

        Assert.True(message.Content.Span.SequenceEqual(content));
        // Never a buffer past the limit, whatever was announced: at most the doublings up to it, or a
        // buffer of the limit and the copy that gives back what a false size made too big.
        Assert.InRange(allocated, 0, 2L * 8 * MiB);
        await Both.Run(async, client.Noop, () => client.NoopAsync());
    }

    [Theory]
    [InlineData(false, "+OK")]
    [InlineData(true, "+OK")]
    [InlineData(false, "+OK 20971520 octets")]
    [InlineData(true, "+OK 20971520 octets")]
    public async Task A_message_over_the_limit_fails_without_allocating_much_beyond_it(bool async, string status)
    {
        const long Limit = 8L * MiB;
        var (_, wire) = Message(20 * MiB, status);
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1").SendRaw(wire));
        using Pop3Client client = await LoggedIn(async, server, Limit);

        var (error, allocated) = await Allocations.Measure(() =>
            Assert.ThrowsAsync<Pop3LimitExceededException>(() => Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1))));
        output.WriteLine($"20 MiB announced as \"{status}\" against a limit of 8 MiB: allocated {allocated:N0} bytes");

        Assert.Equal(nameof(Pop3ClientOptions.MaxInMemoryMessageSize), error.LimitName);
        Assert.False(client.IsConnected);
        // With the size announced, one buffer of the limit; without it, the doublings up to the limit.
        Assert.InRange(allocated, 0, (status == "+OK" ? 2 : 1) * Limit + MiB);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Lines_of_a_message_of_bare_line_feeds_cost_no_memory(bool async)
    {
        const int Size = 8 * MiB;
        byte[] wire = [.. "+OK\r\nSubject: x\n"u8, .. Enumerable.Repeat((byte)'\n', Size), .. "last\n.\n"u8];
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1").SendRaw(wire));
        using Pop3Client client = await LoggedIn(async, server);
        Pop3Message message = await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1));

        var ((count, enumerated, indexed), allocated) = await Allocations.Measure(() =>
        {
            IReadOnlyList<ReadOnlyMemory<byte>> lines = message.Lines;
            int enumerated = 0;
            foreach (ReadOnlyMemory<byte> line in lines)
                enumerated += line.Length == 0 ? 1 : 0;
            int indexed = 0;
            for (int i = 0; i < lines.Count; i++)
                indexed += lines[i].Length;
            return Task.FromResult((lines.Count, enumerated, indexed));
        });
        output.WriteLine($"{count:N0} lines counted, enumerated and indexed: allocated {allocated:N0} bytes");

        Assert.Equal(Size + 2, count);
        Assert.Equal(Size, enumerated);
        Assert.Equal("Subject: x".Length + "last".Length, indexed);
        Assert.Equal("last", Encoding.ASCII.GetString(message.Lines[Size + 1].Span));
        Assert.Equal("Subject: x", Encoding.ASCII.GetString(message.Lines[0].Span));
        Assert.InRange(allocated, 0, MiB);
    }
}
