namespace Poplib.Fetch.Scheduling;

/// <summary>
/// A snapshot of one account in a <see cref="FetchScheduler"/> (<see cref="FetchScheduler.GetStatus()"/>): immutable, taken
/// at one instant, consistent in itself. Times come from the scheduler's <see cref="TimeProvider"/>.
/// </summary>
public sealed record FetchAccountStatus
{
    /// <summary>The account's name.</summary>
    public required string Name { get; init; }

    /// <summary>The account's interval.</summary>
    public required TimeSpan Interval { get; init; }

    /// <summary>Whether a run of the account is in flight.</summary>
    public bool IsRunning { get; init; }

    /// <summary>
    /// Whether the account was removed by <see cref="FetchScheduler.UpdateAccounts"/> while a run was in flight: that run
    /// finishes, and the account then leaves the scheduler.
    /// </summary>
    public bool IsRemoved { get; init; }

    /// <summary>When the last (or current) run started, or <see langword="null"/> if none has.</summary>
    public DateTimeOffset? LastRunStarted { get; init; }

    /// <summary>When the last finished run ended, or <see langword="null"/> if none has.</summary>
    public DateTimeOffset? LastRunEnded { get; init; }

    /// <summary>How long the last finished run took, or <see langword="null"/>.</summary>
    public TimeSpan? LastRunDuration { get; init; }

    /// <summary>When the last successful run ended, or <see langword="null"/> if none has succeeded.</summary>
    public DateTimeOffset? LastSuccess { get; init; }

    /// <summary>How the last finished run ended, or <see langword="null"/> if none has.</summary>
    public FetchRunOutcome? LastOutcome { get; init; }

    /// <summary>The last failure's text (its kind and error), kept after later successes; <see langword="null"/> if none failed.</summary>
    public string? LastError { get; init; }

    /// <summary>When the last failed run ended, or <see langword="null"/>.</summary>
    public DateTimeOffset? LastErrorAt { get; init; }

    /// <summary>
    /// Failed runs since the last success (0 after a success). <see cref="FetchFailure.AccountLocked"/> and
    /// <see cref="FetchFailure.Canceled"/> do not count: neither is the account's fault.
    /// </summary>
    public int ConsecutiveFailures { get; init; }

    /// <summary>Finished runs since the account joined the scheduler.</summary>
    public long Runs { get; init; }

    /// <summary>
    /// When the next run is due, or <see langword="null"/> while a run is in flight, before the scheduler starts and
    /// after it stops. A due run waits for a free slot (<see cref="FetchSchedulerOptions.MaxConcurrentRuns"/>).
    /// </summary>
    public DateTimeOffset? NextRun { get; init; }
}
