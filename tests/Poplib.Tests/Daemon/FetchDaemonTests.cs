using Poplib.Fetch;
using Poplib.Fetch.Hosting;
using Poplib.Fetch.Scheduling;
using Poplib.Fetch.State;
using Poplib.Testing;
using Poplib.Tests.Fetch;

namespace Poplib.Tests.Daemon;

/// <summary>The hosted daemon over in-process servers: exactly-once delivery, back-off on the schedule, reload, graceful stop.</summary>
public sealed class FetchDaemonTests
{
    private static readonly TimeSpan[] FailureDelays = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    [Fact]
    public async Task Several_accounts_one_failing_one_in_use_one_with_login_delay_each_message_lands_once_and_back_off_shows_in_the_status()
    {
        await using DaemonWorld world = await DaemonWorld.StartAsync(accounts: 4, messages: 3);
        world.Worlds[1].Server.Faults = [new DisconnectAfterBytes(1, 10)];        // the connection breaks mid-message (a truncated reply: Protocol, transient)
        world.Worlds[2].Server.Faults = [new LoginInUse()];                       // [IN-USE]
        world.Worlds[3].Server.Faults = [new CapabilityLines(["USER", "UIDL", "TOP", "RESP-CODES", "LOGIN-DELAY 2"])];
        var monitor = new TestOptionsMonitor<FetchDaemonOptions>(world.Options(Enumerable.Range(0, 4).Select(i => world.Account(i))));
        using var daemon = new FetchDaemon(monitor);
        await daemon.StartAsync(CancellationToken.None);
        try
        {
            FetchAccountStatus Status(int i) => daemon.GetStatus().SingleOrDefault(s => s.Name == DaemonWorld.Name(i))
                ?? new FetchAccountStatus { Name = DaemonWorld.Name(i), Interval = TimeSpan.Zero, ConsecutiveFailures = -1 };

            // The failing accounts back off on the policy's ladder: the schedule says so, whatever the wall clock did.
            foreach (int i in new[] { 1, 2 })
            {
                await DaemonWorld.UntilAsync(daemon, () => Status(i) is { ConsecutiveFailures: >= 2, IsRunning: false, NextRun: not null }, $"account {i} failed twice");
                FetchAccountStatus failing = Status(i);
                Assert.Equal(i == 1 ? FetchFailure.Protocol : FetchFailure.InUse, failing.LastOutcome!.FailureKind);
                Assert.Equal(FailureDelays[Math.Min(failing.ConsecutiveFailures, 3) - 1], failing.NextRun!.Value - failing.LastRunEnded!.Value);
                world.Worlds[i].Server.Faults = [];                               // and recovers
            }

            // LOGIN-DELAY 2 from CAPA: a 1-second interval is stretched to the server's delay.
            await DaemonWorld.UntilAsync(daemon, () => Status(3) is { LastSuccess: not null, IsRunning: false, NextRun: not null }, "account 3 succeeded");
            FetchAccountStatus delayed = Status(3);
            Assert.True(delayed.NextRun!.Value - delayed.LastRunEnded!.Value >= TimeSpan.FromSeconds(2));

            // New mail between intervals is fetched.
            world.Worlds[0].Memory.Add(DaemonWorld.Message(0, 4));
            world.Worlds[0].Memory.Add(DaemonWorld.Message(0, 5));
            await DaemonWorld.UntilAsync(daemon, () => world.Delivered(0).Count == 5 && Enumerable.Range(1, 3).All(i => world.Delivered(i).Count == 3), "every message delivered");
            await DaemonWorld.UntilAsync(daemon, () => Status(1).ConsecutiveFailures == 0 && Status(2).ConsecutiveFailures == 0, "both recovered");

            // The status is in the state store too, for --status in another process.
            IReadOnlyList<StoredAccountStatus> stored = world.StoredStatus();
            Assert.Equal(Enumerable.Range(0, 4).Select(DaemonWorld.Name), stored.Select(s => s.Name));
            Assert.All(stored, s => Assert.NotNull(s.LastSuccess));
            Assert.Contains(stored, s => s.Name == DaemonWorld.Name(2) && s.LastError!.Contains("InUse", StringComparison.Ordinal));
        }
        finally
        {
            await daemon.StopAsync(CancellationToken.None);
        }

        for (int i = 0; i < 4; i++)
            Assert.Equal(world.Delivered(i).Distinct().Count(), world.Delivered(i).Count); // never twice
        Assert.Equal(5, world.Delivered(0).Count);
    }

    [Fact]
    public async Task Reload_adds_and_removes_accounts_and_a_broken_source_keeps_the_old_ones()
    {
        await using DaemonWorld world = await DaemonWorld.StartAsync(accounts: 3, messages: 2);
        var monitor = new TestOptionsMonitor<FetchDaemonOptions>(world.Options([world.Account(0), world.Account(1)]));
        using var daemon = new FetchDaemon(monitor);
        await daemon.StartAsync(CancellationToken.None);
        try
        {
            await DaemonWorld.UntilAsync(daemon, () => world.Delivered(0).Count == 2 && world.Delivered(1).Count == 2, "the first accounts fetched");

            monitor.Set(world.Options([world.Account(1), world.Account(2)]));
            Assert.Equal([DaemonWorld.Name(1), DaemonWorld.Name(2)], daemon.AccountNames.Order());
            await DaemonWorld.UntilAsync(daemon, () => world.Delivered(2).Count == 2, "the added account fetched");

            // The removed account is no longer fetched; the others are.
            world.Worlds[0].Memory.Add(DaemonWorld.Message(0, 3));
            world.Worlds[1].Memory.Add(DaemonWorld.Message(1, 3));
            await DaemonWorld.UntilAsync(daemon, () => world.Delivered(1).Count == 3, "account 1 fetched its new message");
            long runs = daemon.GetStatus().Single(s => s.Name == DaemonWorld.Name(2)).Runs;
            await DaemonWorld.UntilAsync(daemon, () => daemon.GetStatus().Single(s => s.Name == DaemonWorld.Name(2)).Runs >= runs + 2, "two more runs");
            Assert.Equal(2, world.Delivered(0).Count);

            // A source that fails: reported, and the accounts in place keep running.
            FetchDaemonOptions broken = world.Options([world.Account(1)]);
            broken.AccountSource = () => throw new FetchException(FetchFailure.Configuration, "config.json: line 3: not JSON");
            monitor.Set(broken);
            Assert.False(daemon.Reload());
            Assert.Equal([DaemonWorld.Name(1), DaemonWorld.Name(2)], daemon.AccountNames.Order());
        }
        finally
        {
            await daemon.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Stopping_during_a_run_deletes_nothing_that_is_not_recorded()
    {
        await using DaemonWorld world = await DaemonWorld.StartAsync(accounts: 1, messages: 6);
        var started = new TaskCompletionSource();
        string fourth = (await world.Worlds[0].UidlsAsync())[3];
        world.Sink.Before = async (message, token) =>
        {
            if (message.Key.ToString() == fourth)
            {
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, token); // hangs until the grace period runs out
            }
        };
        FetchDaemonOptions options = world.Options([world.Account(0, new FetchPolicy { Delete = true, BatchSize = 1 })]);
        options.Scheduler = options.Scheduler with { StopGracePeriod = TimeSpan.FromSeconds(1) };
        using var daemon = new FetchDaemon(new TestOptionsMonitor<FetchDaemonOptions>(options));
        await daemon.StartAsync(CancellationToken.None);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await daemon.StopAsync(CancellationToken.None);
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"stopped in {stopping.Elapsed}");

        Dictionary<MessageKey, StoredMessage> state = world.Worlds[0].State();
        List<string> onServer = await world.Worlds[0].UidlsAsync();
        Assert.Equal(6 - onServer.Count, state.Values.Count(m => m.Status == MessageStatus.Deleted));
        Assert.All(state.Values.Where(m => m.Status == MessageStatus.Deleted), m => Assert.DoesNotContain(m.Key.ToString(), onServer));
        Assert.Equal(3, world.Sink.Accepted.Count);
        Assert.Equal(FetchFailure.Canceled, daemon.GetStatus().Single().LastOutcome!.FailureKind);
    }
}
