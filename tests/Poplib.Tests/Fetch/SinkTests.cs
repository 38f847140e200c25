using Poplib.Fetch;
using Poplib.Fetch.State;
using Poplib.Testing;

namespace Poplib.Tests.Fetch;

/// <summary>The application sink through the public API: identity, bytes, and what a sink's failures leave behind.</summary>
public sealed class SinkTests
{
    [Fact]
    public async Task The_sink_receives_each_message_once_with_its_identity_and_bytes()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(3);
        var sink = new RecordingSink();
        FetchAccount account = world.Account(FetchDestination.Sink(sink));
        List<string> uidls = await world.UidlsAsync();

        FetchResult first = await world.RunAsync(account);

        Assert.Equal(3, first.Delivered);
        Assert.Equal(3, first.OnServer);
        Assert.Equal(world.Key, first.Key);
        Assert.Equal(3, sink.Accepted.Count);
        for (int n = 1; n <= 3; n++)
        {
            (FetchedMessage message, byte[] content) = sink.Accepted[n - 1];
            Assert.Equal(EngineWorld.Wire(n), content);
            Assert.Equal(new AccountKey(EngineWorld.User, "127.0.0.1", world.Server.Port), message.Account);
            Assert.Equal("engine test", message.AccountName);
            Assert.Equal(MessageKey.FromUidl(uidls[n - 1]), message.Key);
            Assert.Equal(uidls[n - 1], message.Key.Uidl);
            Assert.False(message.Key.HasFingerprint);
            Assert.Equal(content.Length, message.Size);
            Assert.Equal(EngineWorld.MessageId(n), message.MessageId);
            Assert.False(message.HeadersOnly);
        }

        Assert.All(world.State().Values, row => Assert.Equal(MessageStatus.Delivered, row.Status));
        Assert.All(world.State().Values, row => Assert.Equal("sink:sink", row.Destination));

        // Recorded: the next run offers nothing again.
        FetchResult second = await world.RunAsync(account);
        Assert.Equal(0, second.Delivered);
        Assert.Equal(3, sink.Calls);
        Assert.Equal(3, world.Memory.Count); // keep is the default
    }

    [Fact]
    public async Task A_sink_that_throws_leaves_that_message_on_the_server_unrecorded_and_the_next_run_delivers_only_it()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(5);
        var sink = new RecordingSink
        {
            Before = (message, _) => message.MessageId == EngineWorld.MessageId(3) ? throw new InvalidOperationException("database is down") : Task.CompletedTask,
        };
        FetchAccount account = world.Account(FetchDestination.Sink(sink), new FetchPolicy { Delete = true });
        List<string> uidls = await world.UidlsAsync();

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(account));

        Assert.Equal(FetchFailure.Rejected, failed.Failure);
        Assert.True(failed.IsTemporary);
        Assert.NotNull(failed.Result);
        Assert.Equal(4, failed.Result.Delivered);
        Assert.Equal(1, failed.Result.Rejected);
        Assert.Equal(4, failed.Result.Deleted);
        Assert.Contains(failed.Result.Warnings, w => w.Message.Contains("database is down", StringComparison.Ordinal) && w.Message.Contains(uidls[2], StringComparison.Ordinal));
        Dictionary<MessageKey, StoredMessage> rows = world.State();
        Assert.False(rows.ContainsKey(MessageKey.FromUidl(uidls[2])));
        Assert.Equal(4, rows.Count);
        // Delete mode: the four delivered are gone, the one the sink refused stays.
        Assert.Equal(1, world.Memory.Count);

        sink.Before = null;
        FetchResult second = await world.RunAsync(account);

        Assert.Equal(1, second.Delivered);
        Assert.Equal(5, sink.Accepted.Count);
        Assert.Equal(EngineWorld.MessageId(3), sink.Accepted[^1].Message.MessageId);
        Assert.Equal(EngineWorld.Wire(3), sink.Accepted[^1].Content);
        Assert.Equal(0, world.Memory.Count);
        Assert.All(sink.Accepted.GroupBy(a => a.Message.Key), g => Assert.Single(g));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_sink_that_hangs_is_stopped_at_the_sink_timeout_and_its_message_stays_unrecorded(bool honoursCancellation)
    {
        await using EngineWorld world = await EngineWorld.StartAsync(3);
        var never = new TaskCompletionSource();
        var sink = new RecordingSink
        {
            Before = (message, cancellationToken) => message.MessageId != EngineWorld.MessageId(2) ? Task.CompletedTask
                : honoursCancellation ? Task.Delay(Timeout.Infinite, cancellationToken) : never.Task,
        };
        FetchAccount account = world.Account(FetchDestination.Sink(sink), new FetchPolicy { Delete = true, SinkTimeout = TimeSpan.FromSeconds(1), BatchSize = 1 });
        List<string> uidls = await world.UidlsAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(account));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Equal(FetchFailure.Destination, failed.Failure);
        Assert.Contains("did not accept", failed.Message, StringComparison.Ordinal);
        Assert.Contains(uidls[1], failed.Message, StringComparison.Ordinal);
        Dictionary<MessageKey, StoredMessage> rows = world.State();
        Assert.Equal(MessageStatus.Delivered, rows[MessageKey.FromUidl(uidls[0])].Status);
        Assert.False(rows.ContainsKey(MessageKey.FromUidl(uidls[1])));
        Assert.False(rows.ContainsKey(MessageKey.FromUidl(uidls[2])));
        // The run stopped before DELE and QUIT: nothing was deleted, the hung one least of all.
        Assert.Equal(3, world.Memory.Count);

        sink.Before = null;
        FetchResult second = await world.RunAsync(account);
        Assert.Equal(2, second.Delivered);
        Assert.Equal(3, second.Deleted);
        Assert.Equal([EngineWorld.MessageId(1), EngineWorld.MessageId(2), EngineWorld.MessageId(3)], sink.Accepted.Select(a => a.Message.MessageId));
        never.TrySetResult();
    }

    [Fact]
    public async Task When_the_download_breaks_and_the_messages_before_it_cannot_be_delivered_the_warning_counts_them()
    {
        // The connection breaks inside message 3; messages 1 and 2 arrived whole and are handed over,
        // but the sink hangs on the first past its timeout: both stay on the server, and the warning
        // says how many (it once counted the group after emptying it, and said 0).
        await using EngineWorld world = await EngineWorld.StartAsync(3, new DisconnectAfterBytes(3, 10));
        var sink = new RecordingSink { Before = (_, cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken) };
        using SqliteFetchStateStore state = SqliteFetchStateStore.Open(world.StatePath);
        var observer = new RecordingWarnings();
        FetchAccount account = world.Account(FetchDestination.Sink(sink), new FetchPolicy { SinkTimeout = TimeSpan.FromSeconds(1) });

        await Assert.ThrowsAsync<FetchException>(() => new Fetcher(account, state, observer).RunAsync());

        Assert.Contains(observer.Messages, m => m.StartsWith("could not deliver the 2 message(s) that arrived before the download stopped", StringComparison.Ordinal));
        Assert.Empty(world.State());
        Assert.Empty(sink.Accepted);
    }

    private sealed class RecordingWarnings : IFetchObserver
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _messages = new();

        public IEnumerable<string> Messages => _messages;

        public void Warning(FetchProgress progress, FetchWarning warning) => _messages.Enqueue(warning.Message);
    }

    [Fact]
    public async Task The_observer_sees_start_each_delivery_and_the_end_as_immutable_snapshots()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(3);
        var observer = new RecordingObserver();
        using SqliteFetchStateStore state = SqliteFetchStateStore.Open(world.StatePath);

        FetchResult result = await new Fetcher(world.Account(FetchDestination.Sink(new RecordingSink())), state, observer).RunAsync();

        Assert.Equal(["started 0/3", "delivered 1/3", "delivered 2/3", "delivered 3/3", "finished 3 ok"], observer.Events);
        Assert.Same(result, observer.Finished);
    }

    private sealed class RecordingObserver : IFetchObserver
    {
        public List<string> Events { get; } = [];

        public FetchResult? Finished { get; private set; }

        public void RunStarted(FetchProgress progress) => Events.Add($"started {progress.Delivered}/{progress.ToFetch}");

        public void MessageDelivered(FetchProgress progress, MessageKey key, long octets) => Events.Add($"delivered {progress.Delivered}/{progress.ToFetch}");

        public void RunFinished(FetchResult result, FetchException? failure)
        {
            Finished = result;
            Events.Add($"finished {result.Delivered} {(failure is null ? "ok" : failure.Failure.ToString())}");
        }
    }
}
