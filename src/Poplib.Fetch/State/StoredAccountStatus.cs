namespace Poplib.Fetch.State;

/// <summary>
/// An account's schedule as a long-running retriever last recorded it in the state store (the account-status table):
/// what <c>poplib fetch --status</c> prints, readable by another process while the daemon runs.
/// </summary>
/// <param name="Name">The account's name (as the daemon schedules it).</param>
/// <param name="LastRunStarted">When its last run started.</param>
/// <param name="LastRunEnded">When its last run ended.</param>
/// <param name="LastSuccess">When a run last succeeded.</param>
/// <param name="LastOutcome"><c>success</c>, or the <see cref="FetchFailure"/> of the last run in snake case (<c>in_use</c>).</param>
/// <param name="LastError">The last failure's one-line description (kind and text), or null if there never was one.</param>
/// <param name="LastErrorAt">When the last failure happened.</param>
/// <param name="ConsecutiveFailures">Failed runs since the last success.</param>
/// <param name="NextRun">When the next run is due, or null (the daemon stopped).</param>
/// <param name="Runs">Runs since the daemon started.</param>
/// <param name="Interval">The account's interval.</param>
/// <param name="Updated">When this row was written.</param>
public sealed record StoredAccountStatus(
    string Name,
    DateTimeOffset? LastRunStarted,
    DateTimeOffset? LastRunEnded,
    DateTimeOffset? LastSuccess,
    string? LastOutcome,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    int ConsecutiveFailures,
    DateTimeOffset? NextRun,
    long Runs,
    TimeSpan Interval,
    DateTimeOffset Updated)
{
    /// <summary>The worker that ran the account last or holds it now (a store shared by several workers), or null.</summary>
    public string? Owner { get; init; }

    /// <summary>Until when <see cref="Owner"/>'s lease on the account runs, if it holds one now; null otherwise.</summary>
    public DateTimeOffset? LeaseExpires { get; init; }

    /// <summary>The row for a scheduler's snapshot of an account, written at <paramref name="now"/>.</summary>
    /// <param name="status">The snapshot (<see cref="FetchSchedulerOptions.RunCompleted"/> hands one over after each run).</param>
    /// <param name="now">The time of writing.</param>
    public static StoredAccountStatus From(FetchAccountStatus status, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(status);
        string? outcome = status.LastOutcome switch
        {
            null => null,
            { FailureKind: { } kind } => Observability.FetchMetrics.TagValue(kind),
            _ => "success",
        };
        return new StoredAccountStatus(status.Name, status.LastRunStarted, status.LastRunEnded, status.LastSuccess, outcome,
            status.LastError, status.LastErrorAt, status.ConsecutiveFailures, status.NextRun, status.Runs, status.Interval, now);
    }
}
