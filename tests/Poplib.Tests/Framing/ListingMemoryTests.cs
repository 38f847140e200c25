using System.Buffers.Text;
using System.Text;
using Poplib.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Poplib.Tests.Framing;

/// <summary>
/// What listings cost: a real mailbox of a million messages must list in a few tens of megabytes,
/// and an endless or hostile listing must stop at a bound long before it costs hundreds.
/// </summary>
[Collection(nameof(MemoryMeasurement))]
public class ListingMemoryTests(ITestOutputHelper output)
{
    private const int MiB = 1024 * 1024;

    /// <summary>A listing reply, "+OK" to ".", made before any measurement starts.</summary>
    private static byte[] Listing(int count, Func<int, string> line)
    {
        var text = new StringBuilder("+OK\r\n", count * 30);
        for (int n = 1; n <= count; n++)
            text.Append(line(n)).Append("\r\n");
        return Encoding.ASCII.GetBytes(text.Append(".\r\n").ToString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_million_message_mailbox_lists_in_little_memory(bool async)
    {
        const int Count = 1_000_000;
        // Sizes of a few KB; UIDs as Dovecot makes them (16 hex digits).
        byte[] list = Listing(Count, n => $"{n} {3000 + (n * 7919L % 60000)}");
        byte[] uidl = Listing(Count, n => $"{n} {n:X8}{(uint)(n * 2654435761):X8}");
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("LIST").SendRaw(list).Expect("UIDL").SendRaw(uidl));
        using Pop3Client client = await Both.LogIn(async, server.Port);

        long liveBefore = Allocations.Live(null);
        var ((sizes, uids), allocated) = await Allocations.Measure(async () =>
            (await Both.Run(async, client.List, () => client.ListAsync()), await Both.Run(async, client.Uidl, () => client.UidlAsync())));
        long live = Allocations.Live((sizes, uids)) - liveBefore;
        output.WriteLine($"1,000,000 LIST + UIDL entries: allocated {allocated:N0} bytes, live afterwards {live:N0} bytes (wire {list.Length + uidl.Length:N0} bytes)");

        Assert.Equal(Count, sizes.Count);
        Assert.Equal(Count, uids.Count);
        Assert.Equal(new Pop3ListEntry(123_456, 3000 + (123_456 * 7919L % 60000)), sizes[123_455]);
        Assert.Equal(new Pop3UidlEntry(Count, $"{Count:X8}{unchecked((uint)(Count * 2654435761)):X8}"), uids[Count - 1]);
        Assert.InRange(allocated, 0, 48L * MiB);
        Assert.InRange(live, long.MinValue, 40L * MiB);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_endless_list_stops_at_a_bound_in_bounded_memory(bool async)
    {
        // Lines made into one reused buffer, so the server allocates nothing while measured.
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("LIST").Send("+OK").Do(async (stream, ct) =>
        {
            byte[] block = new byte[64 * 1024];
            try
            {
                for (int n = 1; ; )
                {
                    int used = 0;
                    while (used < block.Length - 32)
                    {
                        Utf8Formatter.TryFormat(n++, block.AsSpan(used), out int written);
                        used += written;
                        " 4096\r\n"u8.CopyTo(block.AsSpan(used));
                        used += 7;
                    }

                    await stream.WriteAsync(block.AsMemory(0, used), ct);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                // The client gave up, as it should.
            }
        }));
        using Pop3Client client = await Both.LogIn(async, server.Port);

        var (error, allocated) = await Allocations.Measure(() =>
            Assert.ThrowsAsync<Pop3LimitExceededException>(() => Both.Run(async, client.List, () => client.ListAsync())));
        output.WriteLine($"endless LIST: {error.LimitName} after allocating {allocated:N0} bytes");

        Assert.Equal(nameof(Pop3ClientOptions.MaxListingOctets), error.LimitName);
        Assert.False(client.IsConnected);
        Assert.InRange(allocated, 0, 128L * MiB);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Lang_stops_at_a_thousand_lines_like_capa(bool async)
    {
        byte[] lang = Listing(100_000, n => $"x-{n} Language number {n}");
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("LANG").Expect("LANG").SendRaw(lang));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        var (error, allocated) = await Allocations.Measure(() =>
            Assert.ThrowsAsync<Pop3ProtocolException>(() => Both.Run(async, client.Lang, () => client.LangAsync())));
        output.WriteLine($"LANG of 100,000 lines: {error.Message} after allocating {allocated:N0} bytes");

        Assert.Contains("1000", error.Message);
        Assert.False(client.IsConnected);
        Assert.InRange(allocated, 0, 1L * MiB);
    }
}
