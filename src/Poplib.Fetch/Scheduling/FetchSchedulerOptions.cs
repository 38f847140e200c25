using Microsoft.Extensions.Logging;
using Poplib.Fetch.Observability;

namespace Poplib.Fetch.Scheduling;

/// <summary>How a <see cref="FetchScheduler"/> runs its accounts. Every member has a documented default; change one with <c>with</c>.</summary>
public sealed record FetchSchedulerOptions
{
    /// <summary>
    /// The most runs at once, over all accounts. Default 4: a run waits on the network and on fsync, not on the processor,
    /// so the processor count is no measure; 4 keeps a small server's disk and the remote POP3 servers unhurried while a
    /// slow account does not hold up the rest. At least 1.
    /// </summary>
    public int MaxConcurrentRuns
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 4;

    /// <summary>The back-off for accounts that name none of their own. Default <see cref="BackoffPolicy.Default"/>.</summary>
    public BackoffPolicy Backoff { get; init => field = OptionChecks.NotNull(value); } = BackoffPolicy.Default;

    /// <summary>
    /// How long runs in flight may go on after the stop token is cancelled before their own token is cancelled. Default
    /// 10 seconds: enough for the engine to finish the durable group in hand and QUIT, well inside the host's shutdown
    /// timeout (<c>HostOptions.ShutdownTimeout</c>, 30 s by default) and systemd's stop timeout (90 s by default).
    /// </summary>
    public TimeSpan StopGracePeriod { get; init => field = OptionChecks.NonNegative(value); } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The first runs are spread at random over the account's interval or this much, whichever is shorter, so that a fleet
    /// does not connect all at once. Default 1 minute: spread enough, and nobody waits long for the first fetch. Zero starts
    /// every account at once.
    /// </summary>
    public TimeSpan MaxInitialSpread { get; init => field = OptionChecks.NonNegative(value); } = TimeSpan.FromMinutes(1);

    /// <summary>The clock and timers. Default <see cref="TimeProvider.System"/>; tests pass a fake one.</summary>
    public TimeProvider TimeProvider { get; init => field = OptionChecks.NotNull(value); } = TimeProvider.System;

    /// <summary>
    /// Seeds the jitter and the first runs' spread: each account gets a <see cref="System.Random"/> of its own, seeded from this
    /// one when it joins (in the order given), so its schedule depends only on its own runs. Default <see langword="null"/>:
    /// <see cref="System.Random.Shared"/>. Pass a seeded <see cref="System.Random"/> for a schedule that repeats exactly on the
    /// same clock (the scheduler locks it while drawing a seed; it is not thread-safe).
    /// </summary>
    public Random? Random { get; init; }

    /// <summary>Where each run is recorded (<see cref="FetchMetrics.RecordRun"/>), or <see langword="null"/> for nowhere. Default null.</summary>
    public FetchMetrics? Metrics { get; init; }

    /// <summary>
    /// Called after each run with the account's new status (its outcome, failure count and next run), e.g. to write it to
    /// the state store for a <c>--status</c> command in another process. Called on the thread pool, outside the scheduler's
    /// lock, possibly for several accounts at once; <see cref="FetchScheduler.RunAsync"/> does not return before the calls
    /// for the runs in flight at stop have returned (their status has no next run), and the last report of an account removed
    /// while running says <see cref="FetchAccountStatus.IsRemoved"/>. An exception from it is logged (Error) and otherwise ignored. Default
    /// <see langword="null"/>.
    /// </summary>
    public Action<FetchAccountStatus>? RunCompleted { get; init; }

    /// <summary>
    /// Where one line per run is logged (Information on success, Warning on failure, Error for a delegate that threw), or
    /// <see langword="null"/> for no logging. Default null.
    /// </summary>
    public ILogger? Logger { get; init; }
}
