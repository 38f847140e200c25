using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Poplib.Fetch;
using Poplib.Fetch.Scheduling;

namespace Poplib.Tests.Scheduling;

/// <summary>One run of a fake account, as the harness saw it.</summary>
internal sealed record RunRecord(string Account, int Index, DateTimeOffset Started, DateTimeOffset? Ended, FetchRunOutcome? Outcome);

/// <summary>What a fake account does in one run: park for <see cref="Duration"/> of fake time, then return or throw.</summary>
internal sealed record RunScript(TimeSpan Duration, FetchRunOutcome? Outcome, Exception? Throw = null)
{
    public static RunScript Ok(double seconds = 0.2) => new(TimeSpan.FromSeconds(seconds), FetchRunOutcome.Success());

    public static RunScript Fail(FetchFailure kind, double seconds = 0.2, TimeSpan? minimumDelay = null) =>
        new(TimeSpan.FromSeconds(seconds), FetchRunOutcome.Failure(kind, $"fake {kind}", minimumDelay));

    /// <summary>A run that does not return until its token is cancelled.</summary>
    public static RunScript Hang() => new(Timeout.InfiniteTimeSpan, FetchRunOutcome.Success());
}

/// <summary>
/// A <see cref="FetchScheduler"/> over fake accounts on a <see cref="FakeTimeProvider"/>. Runs park on fake-time timers whose
/// callbacks flip the harness's counters synchronously inside <see cref="FakeTimeProvider.Advance"/>, so that
/// <see cref="SettleAsync"/> can tell exactly when the scheduler and every run are waiting for the clock again.
/// </summary>
internal sealed class SchedulerHarness : IAsyncDisposable
{
    private readonly Func<string, int, DateTimeOffset, RunScript> _script;
    private readonly ConcurrentDictionary<string, int> _activePerAccount = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _runIndex = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly object _recordsGate = new();
    private readonly List<RunRecord> _records = [];
    private int _parked;
    private int _active;
    private int _maxActive;
    private int _overlaps;
    private Task? _runTask;

    public SchedulerHarness(IEnumerable<FetchAccountSchedule> accounts, Func<string, int, DateTimeOffset, RunScript> script,
        Func<FakeTimeProvider, FetchSchedulerOptions>? options = null, int seed = 1234)
    {
        _script = script;
        Options = (options?.Invoke(Time) ?? new FetchSchedulerOptions()) with { TimeProvider = Time, Random = new Random(seed) };
        Scheduler = new FetchScheduler(accounts, RunAccountAsync, Options);
    }

    public static DateTimeOffset Epoch { get; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public FakeTimeProvider Time { get; } = new(Epoch);

    public FetchSchedulerOptions Options { get; }

    public FetchScheduler Scheduler { get; }

    /// <summary>The most runs the harness saw in flight at once.</summary>
    public int MaxActive => Volatile.Read(ref _maxActive);

    /// <summary>How often a run of an account started while another run of it was in flight.</summary>
    public int Overlaps => Volatile.Read(ref _overlaps);

    /// <summary>Tokens handed to the runs, by account and run index.</summary>
    public ConcurrentDictionary<(string, int), CancellationToken> Tokens { get; } = new();

    public Task RunTask => _runTask ?? throw new InvalidOperationException("Not started.");

    public IReadOnlyList<RunRecord> Records
    {
        get
        {
            lock (_recordsGate)
                return [.. _records];
        }
    }

    public IReadOnlyList<RunRecord> RunsOf(string account) => [.. Records.Where(r => r.Account == account).OrderBy(r => r.Index)];

    public TimeSpan Elapsed => Time.GetUtcNow() - Epoch;

    public async Task StartAsync()
    {
        _runTask = Scheduler.RunAsync(_stop.Token);
        await SettleAsync();
    }

    public void Stop() => _stop.Cancel();

    /// <summary>Advances the fake clock by <paramref name="total"/> in steps, settling after each.</summary>
    public async Task AdvanceAsync(TimeSpan total, double stepSeconds = 0.05)
    {
        TimeSpan step = TimeSpan.FromSeconds(stepSeconds);
        for (TimeSpan done = TimeSpan.Zero; done < total; done += step)
        {
            Time.Advance(step);
            await SettleAsync();
        }
    }

    /// <summary>Waits (in real time) until the scheduler's loop is parked and every run in flight is parked on the clock.</summary>
    public async Task SettleAsync()
    {
        var watch = Stopwatch.StartNew();
        int stable = 0;
        while (true)
        {
            if (Scheduler.IsWaiting && Scheduler.RunningCount == Volatile.Read(ref _parked))
            {
                if (++stable >= 2)
                    return;
            }
            else
            {
                stable = 0;
            }
            if (_runTask is { IsFaulted: true })
                await _runTask;
            if (watch.Elapsed > TimeSpan.FromSeconds(20))
                throw new TimeoutException($"The scheduler did not settle: waiting={Scheduler.IsWaiting}, running={Scheduler.RunningCount}, parked={_parked}.");
            await Task.Delay(1);
        }
    }

    private async Task<FetchRunOutcome> RunAccountAsync(string account, CancellationToken token)
    {
        int index = _runIndex.AddOrUpdate(account, 0, (_, i) => i + 1);
        Tokens[(account, index)] = token;
        DateTimeOffset started = Time.GetUtcNow();
        if (_activePerAccount.AddOrUpdate(account, 1, (_, n) => n + 1) > 1)
            Interlocked.Increment(ref _overlaps);
        int active = Interlocked.Increment(ref _active);
        for (int max = Volatile.Read(ref _maxActive); active > max; max = Volatile.Read(ref _maxActive))
            Interlocked.CompareExchange(ref _maxActive, active, max);
        RunScript script = _script(account, index, started);
        FetchRunOutcome? outcome = null;
        try
        {
            if (script.Duration != TimeSpan.Zero)
                await ParkAsync(script.Duration, token);
            if (script.Throw is { } ex)
                throw ex;
            outcome = script.Outcome;
            return outcome!;
        }
        finally
        {
            lock (_recordsGate)
                _records.Add(new RunRecord(account, index, started, Time.GetUtcNow(), outcome));
            Interlocked.Decrement(ref _active);
            _activePerAccount.AddOrUpdate(account, 0, (_, n) => n - 1);
        }
    }

    private async Task ParkAsync(TimeSpan duration, CancellationToken token)
    {
        var parked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int released = 0;
        void Release(bool cancelled)
        {
            if (Interlocked.Exchange(ref released, 1) != 0)
                return;
            Interlocked.Decrement(ref _parked);
            if (cancelled)
                parked.TrySetCanceled(token);
            else
                parked.TrySetResult();
        }
        Interlocked.Increment(ref _parked);
        using ITimer timer = Time.CreateTimer(_ => Release(false), null, duration, Timeout.InfiniteTimeSpan);
        using CancellationTokenRegistration registration = token.Register(() => Release(true));
        await parked.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_runTask is not null)
        {
            // Let any grace period run out on the fake clock.
            for (int i = 0; i < 1000 && !_runTask.IsCompleted; i++)
            {
                Time.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(1);
            }
            await _runTask.WaitAsync(TimeSpan.FromSeconds(20));
        }
        _stop.Dispose();
    }
}
