using Poplib.Fetch;
using Poplib.Fetch.Scheduling;

namespace Poplib.Tests.Scheduling;

public class FetchSchedulerTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    private static FetchAccountSchedule[] Accounts(int count, TimeSpan interval, string prefix = "a") =>
        [.. Enumerable.Range(0, count).Select(i => new FetchAccountSchedule($"{prefix}{i:00}", interval))];

    /// <summary>The gaps between one run's end and the next run's start.</summary>
    private static TimeSpan[] Gaps(IReadOnlyList<RunRecord> runs) =>
        [.. runs.Zip(runs.Skip(1), (a, b) => b.Started - a.Ended!.Value)];

    [Fact]
    public async Task First_runs_are_spread_over_the_initial_spread_not_all_at_once()
    {
        await using var h = new SchedulerHarness(Accounts(20, TimeSpan.FromMinutes(10)), (_, _, _) => RunScript.Ok());
        await h.StartAsync();
        DateTimeOffset[] next = [.. h.Scheduler.GetStatus().Select(s => s.NextRun!.Value)];
        Assert.Equal(20, next.Length);
        Assert.All(next, n => Assert.InRange(n, SchedulerHarness.Epoch, SchedulerHarness.Epoch + TimeSpan.FromMinutes(1)));
        Assert.True(next.Distinct().Count() >= 18, "first runs collide");
        Assert.True(next.Max() - next.Min() > S(30), $"first runs bunched within {next.Max() - next.Min()}");
        Assert.Empty(h.Records);
        await h.AdvanceAsync(TimeSpan.FromMinutes(1) + S(1), stepSeconds: 0.5); // + 1 s: the last first run ends
        Assert.Equal(20, h.Records.Select(r => r.Account).Distinct().Count());
    }

    [Fact]
    public async Task A_short_interval_bounds_the_spread()
    {
        await using var h = new SchedulerHarness(Accounts(10, S(2)), (_, _, _) => RunScript.Ok());
        await h.StartAsync();
        Assert.All(h.Scheduler.GetStatus(), s => Assert.InRange(s.NextRun!.Value, SchedulerHarness.Epoch, SchedulerHarness.Epoch + S(2)));
    }

    [Fact]
    public async Task Successful_accounts_run_every_interval_with_jitter()
    {
        await using var h = new SchedulerHarness(Accounts(3, S(1)), (_, _, _) => RunScript.Ok(0.2));
        await h.StartAsync();
        await h.AdvanceAsync(S(30));
        foreach (string name in new[] { "a00", "a01", "a02" })
        {
            IReadOnlyList<RunRecord> runs = h.RunsOf(name);
            Assert.InRange(runs.Count, 22, 28); // ~30 s / 1.2 s
            Assert.All(Gaps(runs), g => Assert.InRange(g, S(0.9 - 0.05), S(1.1 + 0.05)));
            Assert.True(Gaps(runs).Distinct().Count() > 1, "no jitter");
        }
    }

    [Fact]
    public async Task A_seeded_schedule_repeats_exactly_and_another_seed_differs()
    {
        async Task<string[]> Schedule(int seed)
        {
            await using var h = new SchedulerHarness(Accounts(10, S(1)),
                (name, i, _) => i % 4 == 3 ? RunScript.Fail(FetchFailure.Timeout, 0.3) : RunScript.Ok(0.3),
                _ => new FetchSchedulerOptions { MaxConcurrentRuns = 3, Backoff = BackoffPolicy.Default with { FailureDelays = [S(2)] } },
                seed);
            await h.StartAsync();
            await h.AdvanceAsync(S(20));
            return [.. h.Records.Select(r => $"{r.Account}#{r.Index}@{(r.Started - SchedulerHarness.Epoch).TotalSeconds:0.00}").Order()];
        }
        string[] first = await Schedule(99), again = await Schedule(99), other = await Schedule(100);
        Assert.True(first.Length > 100);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task The_concurrency_limit_is_never_exceeded_and_an_account_never_overlaps_itself()
    {
        await using var h = new SchedulerHarness(Accounts(10, S(1)), (_, _, _) => RunScript.Ok(5),
            _ => new FetchSchedulerOptions { MaxConcurrentRuns = 3 });
        await h.StartAsync();
        await h.AdvanceAsync(S(60), stepSeconds: 0.1);
        Assert.Equal(3, h.MaxActive);
        Assert.Equal(0, h.Overlaps);
        // Every account got its turn: 60 s × 3 slots / 5 s per run ≈ 36 runs over 10 accounts.
        Assert.All(h.Scheduler.GetStatus(), s => Assert.InRange(s.Runs, 2, 5));
        Assert.InRange(h.Records.Count, 30, 36);
    }

    [Fact]
    public async Task A_run_longer_than_the_interval_is_not_started_again_until_it_ends()
    {
        await using var h = new SchedulerHarness(Accounts(1, S(1)), (_, _, _) => RunScript.Ok(10));
        await h.StartAsync();
        await h.AdvanceAsync(S(35), stepSeconds: 0.1);
        IReadOnlyList<RunRecord> runs = h.RunsOf("a00");
        Assert.Equal(0, h.Overlaps);
        Assert.InRange(runs.Count, 3, 3);
        Assert.All(Gaps(runs), g => Assert.InRange(g, S(0.9 - 0.1), S(1.1 + 0.1)));
    }

    [Fact]
    public async Task Failures_back_off_on_the_ladder_and_a_success_resets_it()
    {
        BackoffPolicy policy = BackoffPolicy.Default with { FailureDelays = [S(2), S(4), S(8)], JitterFraction = 0 };
        // Down for the first 4 runs, then healthy.
        await using var h = new SchedulerHarness(Accounts(1, S(1)),
            (_, i, _) => i < 4 ? RunScript.Fail(FetchFailure.Connection, 0) : RunScript.Ok(0),
            _ => new FetchSchedulerOptions { Backoff = policy });
        await h.StartAsync();
        await h.AdvanceAsync(S(30));
        TimeSpan[] gaps = Gaps(h.RunsOf("a00"));
        Assert.Equal([S(2), S(4), S(8), S(8), S(1), S(1)], gaps.Take(6).Select(g => TimeSpan.FromSeconds(Math.Round(g.TotalSeconds, 1))));
        FetchAccountStatus status = h.Scheduler.GetStatus("a00")!;
        Assert.Equal(0, status.ConsecutiveFailures);
        Assert.Equal("Connection: fake Connection", status.LastError);
        Assert.True(status.LastOutcome!.Succeeded);
    }

    [Fact]
    public async Task A_throwing_delegate_is_recorded_as_unexpected_and_the_others_go_on()
    {
        await using var h = new SchedulerHarness([new("boom", S(1)), new("fine", S(1))],
            (name, _, _) => name == "boom" ? new RunScript(S(0.1), null, new InvalidOperationException("kaput")) : RunScript.Ok(0.1),
            _ => new FetchSchedulerOptions { Backoff = BackoffPolicy.Default with { FailureDelays = [S(3)], JitterFraction = 0 } });
        await h.StartAsync();
        await h.AdvanceAsync(S(20));
        FetchAccountStatus boom = h.Scheduler.GetStatus("boom")!;
        Assert.Equal(FetchFailure.Unexpected, boom.LastOutcome!.FailureKind);
        Assert.Equal("Unexpected: InvalidOperationException: kaput", boom.LastError);
        Assert.Equal(boom.Runs, boom.ConsecutiveFailures);
        Assert.InRange(boom.Runs, 5, 7); // every 3.1 s
        Assert.Null(boom.LastSuccess);
        Assert.InRange(h.Scheduler.GetStatus("fine")!.Runs, 15, 19);
        Assert.False(h.RunTask.IsCompleted);
    }

    [Fact]
    public async Task A_delegate_that_throws_synchronously_or_returns_null_is_recorded_too()
    {
        int calls = 0;
        var scheduler = new FetchScheduler([new FetchAccountSchedule("sync", S(1)), new FetchAccountSchedule("null", S(1))],
            (name, _) => name == "sync" ? throw new FormatException("at once") : Task.FromResult<FetchRunOutcome>(null!),
            new FetchSchedulerOptions { MaxInitialSpread = TimeSpan.Zero });
        using var stop = new CancellationTokenSource();
        Task run = scheduler.RunAsync(stop.Token);
        while (scheduler.GetStatus().Any(s => s.Runs == 0) && calls++ < 5000)
            await Task.Delay(1);
        stop.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("Unexpected: FormatException: at once", scheduler.GetStatus("sync")!.LastError);
        Assert.Equal(FetchFailure.Unexpected, scheduler.GetStatus("null")!.LastOutcome!.FailureKind);
    }

    [Fact]
    public async Task Status_snapshots_tell_the_last_run_the_last_success_and_the_next_run()
    {
        await using var h = new SchedulerHarness(Accounts(1, S(10)),
            (_, i, _) => i == 1 ? RunScript.Fail(FetchFailure.InUse, 1) : new RunScript(S(1), FetchRunOutcome.Success() with { MessagesDelivered = 2 }),
            _ => new FetchSchedulerOptions { Backoff = BackoffPolicy.Default with { JitterFraction = 0 } });
        FetchAccountStatus before = h.Scheduler.GetStatus("a00")!;
        Assert.Equal((0L, (DateTimeOffset?)null, (DateTimeOffset?)null), (before.Runs, before.NextRun, before.LastRunStarted));
        await h.StartAsync();
        DateTimeOffset first = h.Scheduler.GetStatus("a00")!.NextRun!.Value;
        await h.AdvanceAsync(first - h.Time.GetUtcNow() + S(0.5), stepSeconds: 0.5);
        FetchAccountStatus running = h.Scheduler.GetStatus("a00")!;
        Assert.True(running.IsRunning);
        Assert.Null(running.NextRun);
        Assert.NotNull(running.LastRunStarted);
        await h.AdvanceAsync(S(1), stepSeconds: 0.5);
        FetchAccountStatus afterSuccess = h.Scheduler.GetStatus("a00")!;
        Assert.False(afterSuccess.IsRunning);
        Assert.Equal(1, afterSuccess.Runs);
        Assert.Equal(afterSuccess.LastRunEnded, afterSuccess.LastSuccess);
        Assert.Equal(S(1), afterSuccess.LastRunDuration);
        Assert.Equal(S(1), afterSuccess.LastRunEnded - afterSuccess.LastRunStarted);
        Assert.Equal(afterSuccess.LastRunEnded + S(10), afterSuccess.NextRun);
        Assert.Equal(2, afterSuccess.LastOutcome!.MessagesDelivered);
        Assert.Null(afterSuccess.LastError);
        await h.AdvanceAsync(S(11), stepSeconds: 0.5);
        FetchAccountStatus afterFailure = h.Scheduler.GetStatus("a00")!;
        Assert.Equal((2L, 1), (afterFailure.Runs, afterFailure.ConsecutiveFailures));
        Assert.Equal(afterSuccess.LastSuccess, afterFailure.LastSuccess);
        Assert.Equal("InUse: fake InUse", afterFailure.LastError);
        Assert.Equal(afterFailure.LastRunEnded, afterFailure.LastErrorAt);
        Assert.Equal(afterFailure.LastRunEnded + S(30), afterFailure.NextRun);
        // Snapshots are immutable: the earlier one still says what it said.
        Assert.Equal(1, afterSuccess.Runs);
        Assert.Null(h.Scheduler.GetStatus("nobody"));
    }

    [Fact]
    public async Task RunCompleted_gets_each_new_status_and_a_throwing_callback_changes_nothing()
    {
        var reported = new System.Collections.Concurrent.ConcurrentQueue<FetchAccountStatus>();
        await using var h = new SchedulerHarness([new("a", S(1)), new("b", S(1))],
            (name, _, _) => name == "a" ? RunScript.Ok(0.5) : RunScript.Fail(FetchFailure.ServerTemporary, 0.5),
            _ => new FetchSchedulerOptions
            {
                StopGracePeriod = S(10),
                RunCompleted = status =>
                {
                    reported.Enqueue(status);
                    if (reported.Count % 2 == 0)
                        throw new InvalidOperationException("the store is down");
                },
            });
        await h.StartAsync();
        await h.AdvanceAsync(S(10));
        Assert.Equal(h.Records.Count, reported.Count);
        Assert.All(reported, s => Assert.True(s is { IsRunning: false, NextRun: not null } && s.NextRun > s.LastRunEnded));
        Assert.Equal(h.Scheduler.GetStatus("a")!.Runs, reported.Where(s => s.Name == "a").Max(s => s.Runs));
        Assert.Equal(h.Scheduler.GetStatus("b"), reported.Last(s => s.Name == "b"));

        // At stop, the run in flight is reported before RunAsync returns.
        await h.AdvanceAsync(h.Scheduler.GetStatus("a")!.NextRun!.Value - h.Time.GetUtcNow() + S(0.1));
        Assert.True(h.Scheduler.GetStatus("a")!.IsRunning);
        int before = reported.Count;
        h.Stop();
        await h.SettleAsync();
        await h.AdvanceAsync(S(1));
        await h.RunTask.WaitAsync(TimeSpan.FromSeconds(20));
        FetchAccountStatus last = reported.Last(s => s.Name == "a");
        Assert.True(reported.Count > before);
        Assert.Null(last.NextRun); // stopping: no next run
        Assert.True(last.LastOutcome!.Succeeded);
    }

    [Fact]
    public async Task Reload_adds_and_removes_accounts_without_cancelling_runs_in_flight()
    {
        await using var h = new SchedulerHarness([new("old", S(1)), new("kept", S(1))],
            (name, _, _) => name == "old" ? RunScript.Ok(20) : RunScript.Ok(0.1),
            _ => new FetchSchedulerOptions { MaxInitialSpread = TimeSpan.Zero });
        await h.StartAsync();
        await h.AdvanceAsync(S(2));
        Assert.True(h.Scheduler.GetStatus("old")!.IsRunning);

        h.Scheduler.UpdateAccounts([new("kept", S(1)), new("new", S(1))]);
        await h.SettleAsync();
        FetchAccountStatus leaving = h.Scheduler.GetStatus("old")!;
        Assert.True(leaving.IsRunning && leaving.IsRemoved);
        Assert.False(h.Tokens[("old", 0)].IsCancellationRequested);

        await h.AdvanceAsync(S(20));
        Assert.Null(h.Scheduler.GetStatus("old"));
        Assert.Single(h.RunsOf("old"));
        Assert.True(h.RunsOf("old")[0].Outcome!.Succeeded); // it finished, it was not cancelled
        Assert.False(h.Tokens[("old", 0)].IsCancellationRequested);
        Assert.InRange(h.RunsOf("new").Count, 15, 20);
        Assert.InRange(h.RunsOf("kept").Count, 18, 22);
        Assert.Equal(["kept", "new"], h.Scheduler.GetStatus().Select(s => s.Name));
    }

    [Fact]
    public async Task A_changed_interval_applies_from_the_next_run()
    {
        await using var h = new SchedulerHarness(Accounts(1, S(1)), (_, _, _) => RunScript.Ok(0),
            _ => new FetchSchedulerOptions { Backoff = BackoffPolicy.Default with { JitterFraction = 0 } });
        await h.StartAsync();
        await h.AdvanceAsync(S(5));
        int before = h.RunsOf("a00").Count;
        h.Scheduler.UpdateAccounts([new("a00", S(5))]);
        await h.SettleAsync();
        Assert.Equal(h.Scheduler.GetStatus("a00")!.LastRunEnded + S(5), h.Scheduler.GetStatus("a00")!.NextRun);
        await h.AdvanceAsync(S(30));
        TimeSpan[] gaps = Gaps(h.RunsOf("a00"));
        Assert.All(gaps.Take(before - 1), g => Assert.Equal(S(1), g));
        Assert.All(gaps.Skip(before - 1), g => Assert.Equal(S(5), g));
        Assert.InRange(h.RunsOf("a00").Count - before, 5, 6);
    }

    [Fact]
    public async Task Reload_refuses_duplicate_names_and_keeps_the_old_set()
    {
        await using var h = new SchedulerHarness(Accounts(2, S(1)), (_, _, _) => RunScript.Ok());
        Assert.Throws<ArgumentException>(() => h.Scheduler.UpdateAccounts([new("x", S(1)), new("x", S(2))]));
        Assert.Equal(["a00", "a01"], h.Scheduler.GetStatus().Select(s => s.Name));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FetchAccountSchedule("y", TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => new FetchAccountSchedule(" ", S(1)));
    }

    [Fact]
    public async Task Graceful_stop_starts_nothing_new_lets_runs_finish_and_cancels_them_after_the_grace()
    {
        await using var h = new SchedulerHarness([new("hang", S(1)), new("slow", S(1)), new("idle", S(1))],
            (name, _, _) => name switch { "hang" => RunScript.Hang(), "slow" => RunScript.Ok(3), _ => RunScript.Ok(0) },
            _ => new FetchSchedulerOptions { MaxInitialSpread = TimeSpan.Zero, StopGracePeriod = S(10) });
        await h.StartAsync();
        await h.AdvanceAsync(S(0.5));
        Assert.True(h.Scheduler.GetStatus("hang")!.IsRunning && h.Scheduler.GetStatus("slow")!.IsRunning);
        int idleRuns = h.RunsOf("idle").Count;

        h.Stop();
        await h.SettleAsync();
        await h.AdvanceAsync(S(5), stepSeconds: 0.1);
        Assert.Single(h.RunsOf("slow"));               // finished inside the grace period
        Assert.True(h.RunsOf("slow")[0].Outcome!.Succeeded);
        Assert.Equal(idleRuns, h.RunsOf("idle").Count); // nothing new started
        Assert.False(h.Tokens[("hang", 0)].IsCancellationRequested);
        Assert.False(h.RunTask.IsCompleted);
        Assert.All(h.Scheduler.GetStatus(), s => Assert.Null(s.NextRun));

        h.Time.Advance(S(5)); // the grace period (10 s from the stop) runs out
        await h.RunTask.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(h.Tokens[("hang", 0)].IsCancellationRequested);
        FetchAccountStatus hang = h.Scheduler.GetStatus("hang")!;
        Assert.Equal(FetchFailure.Canceled, hang.LastOutcome!.FailureKind);
        Assert.Equal(0, hang.ConsecutiveFailures);
        Assert.False(hang.IsRunning);
    }

    [Fact]
    public async Task A_zero_grace_period_cancels_runs_in_flight_at_once()
    {
        await using var h = new SchedulerHarness([new("hang", S(1))], (_, _, _) => RunScript.Hang(),
            _ => new FetchSchedulerOptions { MaxInitialSpread = TimeSpan.Zero, StopGracePeriod = TimeSpan.Zero });
        await h.StartAsync();
        await h.AdvanceAsync(S(0.5));
        Assert.True(h.Scheduler.GetStatus("hang")!.IsRunning);
        h.Stop();
        await h.RunTask.WaitAsync(TimeSpan.FromSeconds(20)); // no fake time passes
        Assert.Equal(FetchFailure.Canceled, h.Scheduler.GetStatus("hang")!.LastOutcome!.FailureKind);
    }

    [Fact]
    public async Task Stop_with_nothing_in_flight_returns_at_once_and_a_scheduler_runs_once()
    {
        await using var h = new SchedulerHarness(Accounts(2, S(60)), (_, _, _) => RunScript.Ok());
        await h.StartAsync();
        h.Stop();
        await h.RunTask.WaitAsync(TimeSpan.FromSeconds(20));
        await Assert.ThrowsAsync<InvalidOperationException>(() => h.Scheduler.RunAsync(CancellationToken.None));
    }
}
