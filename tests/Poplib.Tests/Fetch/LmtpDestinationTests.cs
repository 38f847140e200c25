using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Poplib.Fetch;
using Poplib.Fetch.State;
using Poplib.Testing;
using Poplib.Tests.Lmtp;

namespace Poplib.Tests.Fetch;

/// <summary>The LMTP destination through the engine's public API, against a fake LMTP server: what each reply leaves behind.</summary>
public sealed class LmtpDestinationTests
{
    private static readonly LmtpDeliveryOptions s_short = new()
    {
        ConnectTimeout = TimeSpan.FromMilliseconds(700),
        Timeout = TimeSpan.FromMilliseconds(700),
        DataTimeout = TimeSpan.FromMilliseconds(700),
    };

    [Fact]
    public async Task Every_message_is_delivered_once_over_one_session_and_recorded_then_deleted()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(5);
        await using var lmtp = new FakeLmtpServer();
        FetchAccount account = world.Account(FetchDestination.Lmtp(lmtp.Endpoint, ["alice@example.org", "archive"]));

        FetchResult first = await world.RunAsync(account);

        Assert.Equal(5, first.Delivered);
        Assert.Equal(1, lmtp.Connections);
        Assert.Equal(10, lmtp.Accepted.Count);
        for (int n = 1; n <= 5; n++)
        {
            Assert.Equal(EngineWorld.Wire(n), lmtp.Accepted[2 * (n - 1)].Message);
            Assert.Equal(["alice@example.org", "archive"], lmtp.Accepted.Skip(2 * (n - 1)).Take(2).Select(a => a.Recipient));
            Assert.Equal("", lmtp.Accepted[2 * (n - 1)].Sender); // no Return-Path: the null sender
        }

        Assert.All(world.State().Values, row => Assert.Equal(MessageStatus.Delivered, row.Status));
        Assert.All(world.State().Values, row => Assert.Equal(lmtp.Endpoint, row.Destination["lmtp:".Length..]));

        FetchResult again = await world.RunAsync(account);
        Assert.Equal(0, again.Delivered);
        Assert.Equal(10, lmtp.Accepted.Count);
        Assert.Equal(5, world.Memory.Count);

        FetchResult delete = await world.RunAsync(account with { Policy = new FetchPolicy { Delete = true } });
        Assert.Equal(0, delete.Delivered);
        Assert.Equal(5, delete.Deleted);
        Assert.Equal(0, world.Memory.Count);
        Assert.Equal(10, lmtp.Accepted.Count);
    }

    [Fact]
    public async Task The_sender_comes_from_Return_Path()
    {
        byte[] message = Encoding.ASCII.GetBytes("Return-Path: <bounces@example.net>\nSubject: x\n\nbody\n");
        await using EngineWorld world = await EngineWorld.StartAsync(Pop3Mailbox.FromMessages([message]));
        await using var lmtp = new FakeLmtpServer();

        Assert.Equal(1, (await world.RunAsync(world.Account(FetchDestination.Lmtp(lmtp.Endpoint, ["a"])))).Delivered);

        Assert.Equal("bounces@example.net", Assert.Single(lmtp.Accepted).Sender);
        Assert.Equal(message, lmtp.Accepted[0].Message);
    }

    [Fact]
    public async Task A_4xx_leaves_the_message_on_the_server_unrecorded_and_the_next_run_delivers_it_once()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(3);
        await using var lmtp = new FakeLmtpServer { Reply = (n, _) => n == 2 ? "452 4.2.2 Mailbox full" : "250 2.0.0 Saved" };
        FetchAccount account = world.Account(FetchDestination.Lmtp(lmtp.Endpoint, ["a"]), new FetchPolicy { Delete = true });
        List<string> uidls = await world.UidlsAsync();

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(account));

        Assert.Equal(FetchFailure.Rejected, failed.Failure);
        Assert.Equal(2, failed.Result!.Delivered);
        Assert.Equal(2, failed.Result.Deleted);
        Assert.Contains(failed.Result.Warnings, w => w.Message.Contains("deferred", StringComparison.Ordinal) && w.Message.Contains("Mailbox full", StringComparison.Ordinal)
            && w.Message.Contains(uidls[1], StringComparison.Ordinal) && w.Message.Contains("tried again next run", StringComparison.Ordinal));
        Assert.False(world.State().ContainsKey(MessageKey.FromUidl(uidls[1])));
        Assert.Equal(1, world.Memory.Count);

        FetchResult second = await world.RunAsync(account);

        Assert.Equal(1, second.Delivered);
        Assert.Equal(0, world.Memory.Count);
        Assert.Equal([EngineWorld.Wire(1), EngineWorld.Wire(3), EngineWorld.Wire(2)], lmtp.Accepted.Select(a => a.Message));
    }

    [Fact]
    public async Task A_5xx_is_a_rejection_kept_on_the_server_even_in_delete_mode_and_offered_again()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(2);
        await using var lmtp = new FakeLmtpServer { Reply = (n, _) => n % 2 == 1 ? "550 5.1.1 User unknown" : "250 2.0.0 Saved" };
        FetchAccount account = world.Account(FetchDestination.Lmtp(lmtp.Endpoint, ["a"]), new FetchPolicy { Delete = true });

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(account));

        Assert.Equal(FetchFailure.Rejected, failed.Failure);
        Assert.Contains("LMTP server", failed.Message, StringComparison.Ordinal);
        Assert.Equal(1, failed.Result!.Rejected);
        Assert.Contains(failed.Result.Warnings, w => w.Message.Contains("rejected message", StringComparison.Ordinal) && w.Message.Contains("User unknown", StringComparison.Ordinal));
        Assert.Single(world.State());
        Assert.Equal(1, world.Memory.Count);

        // Offered again next run (the server decides again: here it rejects again).
        FetchException again = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(account));
        Assert.Equal(1, again.Result!.Rejected);
        Assert.Equal(1, world.Memory.Count);
        Assert.Equal([EngineWorld.Wire(2)], lmtp.Accepted.Select(a => a.Message));
    }

    [Fact]
    public async Task Mixed_replies_a_4xx_retries_every_recipient_and_250_with_5xx_counts_as_delivered()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(2);
        // Message 1 (first run): a 250, b 451 — deferred as a whole. Message 2: a 250, b 550 — delivered to a.
        // Message 1 again (second run): both 250 — a has it twice: the documented second duplicate window.
        await using var lmtp = new FakeLmtpServer
        {
            Reply = (n, rcpt) => rcpt == "a" ? "250 2.0.0 Saved" : n == 1 ? "451 4.3.0 try later" : n == 2 ? "550 5.1.1 no such user" : "250 2.0.0 Saved",
        };
        FetchAccount account = world.Account(FetchDestination.Lmtp(lmtp.Endpoint, ["a", "b"]));

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(account));

        Assert.Equal(1, failed.Result!.Delivered);
        Assert.Equal(1, failed.Result.Rejected);
        Assert.Contains(failed.Result.Warnings, w => w.Message.Contains("a accepted it and will get it again", StringComparison.Ordinal));
        Assert.Contains(failed.Result.Warnings, w => w.Message.Contains("for some recipients", StringComparison.Ordinal) && w.Message.Contains("delivered to a", StringComparison.Ordinal));

        FetchResult second = await world.RunAsync(account);
        Assert.Equal(1, second.Delivered);
        Assert.Equal(2, lmtp.Accepted.Count(x => x.Recipient == "a" && x.Message.SequenceEqual(EngineWorld.Wire(1))));
        Assert.Equal(1, lmtp.Accepted.Count(x => x.Recipient == "b" && x.Message.SequenceEqual(EngineWorld.Wire(1))));
        Assert.Equal(0, lmtp.Accepted.Count(x => x.Recipient == "b" && x.Message.SequenceEqual(EngineWorld.Wire(2))));
    }

    [Fact]
    public async Task A_session_the_server_closes_is_opened_again_for_the_next_message()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(5);
        await using var lmtp = new FakeLmtpServer { CloseAfter = 2 };

        FetchResult result = await world.RunAsync(world.Account(FetchDestination.Lmtp(lmtp.Endpoint, ["a"])));

        Assert.Equal(5, result.Delivered);
        Assert.Equal(3, lmtp.Connections);
        Assert.Equal(Enumerable.Range(1, 5).Select(EngineWorld.Wire), lmtp.Accepted.Select(a => a.Message));
    }

    [Fact]
    public async Task An_unreachable_server_stops_the_run_naming_it_with_nothing_recorded_or_deleted()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(3);
        string endpoint = $"127.0.0.1:{UnusedPort()}";
        FetchAccount account = world.Account(FetchDestination.Lmtp(endpoint, ["a"], s_short), new FetchPolicy { Delete = true });

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(account));

        Assert.Equal(FetchFailure.Destination, failed.Failure);
        Assert.Contains(endpoint, failed.Message, StringComparison.Ordinal);
        Assert.Empty(world.State());
        Assert.Equal(3, world.Memory.Count);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("hang")]
    public async Task A_server_that_answers_garbage_or_nothing_stops_the_run_in_time(string behaviour)
    {
        await using EngineWorld world = await EngineWorld.StartAsync(2);
        await using var lmtp = new FakeLmtpServer { Greeting = behaviour == "garbage" ? "hello, I am not an LMTP server" : null };
        FetchAccount account = world.Account(FetchDestination.Lmtp(lmtp.Endpoint, ["a"], s_short), new FetchPolicy { Delete = true });
        var clock = Stopwatch.StartNew();

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(account));

        Assert.Equal(FetchFailure.Destination, failed.Failure);
        Assert.Contains(lmtp.Endpoint, failed.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString());
        Assert.Empty(world.State());
        Assert.Equal(2, world.Memory.Count);
    }

    [Fact]
    public async Task A_server_that_hangs_after_the_data_is_a_destination_failure_and_the_message_stays()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(2);
        await using var lmtp = new FakeLmtpServer();
        var hang = new TaskCompletionSource();
        lmtp.Reply = (n, _) =>
        {
            if (n == 2)
                hang.Task.Wait(TimeSpan.FromSeconds(5));
            return "250 2.0.0 Saved";
        };
        FetchAccount account = world.Account(FetchDestination.Lmtp(lmtp.Endpoint, ["a"], s_short), new FetchPolicy { Delete = true });

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(account));
        hang.SetResult();

        Assert.Equal(FetchFailure.Destination, failed.Failure);
        Assert.Contains("It stays on the server", failed.Message, StringComparison.Ordinal);
        Assert.Single(world.State()); // message 1, confirmed before the hang
        Assert.Equal(2, world.Memory.Count); // a failed run deletes nothing
    }

    [Fact]
    public async Task A_row_an_interrupted_run_left_with_the_LMTP_server_is_fetched_again()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(2);
        await using var lmtp = new FakeLmtpServer();
        List<string> uidls = await world.UidlsAsync();
        using (SqliteFetchStateStore state = SqliteFetchStateStore.Open(world.StatePath))
        {
            state.Save(world.Key, [new StoredMessage(MessageKey.FromUidl(uidls[0]), MessageStatus.Delivering, 10, null, null, "lmtp:" + lmtp.Endpoint, null, OnServer: true)]);
        }

        FetchResult result = await world.RunAsync(world.Account(FetchDestination.Lmtp(lmtp.Endpoint, ["a"])));

        Assert.Equal(2, result.Delivered);
        Assert.Contains(result.Warnings, w => w.Message.Contains("interrupted", StringComparison.Ordinal) && w.Message.Contains("LMTP", StringComparison.Ordinal));
        Assert.All(world.State().Values, row => Assert.Equal(MessageStatus.Delivered, row.Status));
    }

    [Theory]
    [InlineData("", "a")]
    [InlineData("   ", "a")]
    [InlineData("localhost", "a")]
    [InlineData("localhost:0", "a")]
    [InlineData("localhost:70000", "a")]
    [InlineData("unix:relative/socket", "a")]
    [InlineData("localhost:24", "a b")]
    [InlineData("localhost:24", "a\r\nRCPT TO:<b>")]
    [InlineData("localhost:24", "<a>")]
    [InlineData("localhost:24", null)]
    public void The_factory_refuses_what_cannot_work(string endpoint, string? recipient)
    {
        Assert.Throws<ArgumentException>(() => FetchDestination.Lmtp(endpoint, recipient is null ? [] : [recipient]));
    }

    private static int UnusedPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
