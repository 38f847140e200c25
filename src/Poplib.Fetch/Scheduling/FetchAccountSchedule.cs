namespace Poplib.Fetch.Scheduling;

/// <summary>One account as the <see cref="FetchScheduler"/> sees it: a name and how often to fetch it.</summary>
public sealed record FetchAccountSchedule
{
    /// <summary>An account fetched every <paramref name="interval"/>.</summary>
    /// <param name="name">The account's name, unique in the scheduler (compared ordinally); passed to the run delegate.</param>
    /// <param name="interval">The delay after a successful run before the next; more than zero.</param>
    public FetchAccountSchedule(string name, TimeSpan interval)
    {
        Name = name;
        Interval = interval;
    }

    /// <summary>The account's name, unique in the scheduler (compared ordinally).</summary>
    public string Name
    {
        get;
        init
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(value);
            field = value;
        }
    }

    /// <summary>The delay after a successful run before the next one.</summary>
    public TimeSpan Interval
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            field = value;
        }
    }

    /// <summary>This account's back-off, or <see langword="null"/> for the scheduler's <see cref="FetchSchedulerOptions.Backoff"/>.</summary>
    public BackoffPolicy? Backoff { get; init; }
}
