using Microsoft.Extensions.Logging;
using Poplib.Fetch.Observability;
using Poplib.Fetch.PostgreSql.Accounts;
using Poplib.Fetch.Scheduling;

namespace Poplib.Fetch.PostgreSql.Workers;

/// <summary>How one worker of a fleet runs: how many accounts at once, how often it looks for due ones, how it stops.</summary>
public sealed record PostgreSqlFetchWorkerOptions
{
    /// <summary>How many accounts this worker runs at once (each holds one database connection while it runs). Default 4.</summary>
    public int MaxConcurrentRuns { get; init => field = value is >= 1 and <= 1024 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "From 1 to 1024."); } = 4;

    /// <summary>
    /// How often an idle worker asks the database for due accounts (a worker with free slots asks again as soon as a run
    /// ends). Default 2 seconds: one cheap indexed query per worker per poll.
    /// </summary>
    public TimeSpan PollInterval { get; init => field = value >= TimeSpan.FromMilliseconds(10) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least 10 ms."); }
        = TimeSpan.FromSeconds(2);

    /// <summary>After the stop token: how long runs in flight may go on (finish their durable group and QUIT) before they are cancelled. Default 3 seconds.</summary>
    public TimeSpan StopGracePeriod { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The delay before an account's next run, from how its last ended. Default <see cref="BackoffPolicy.Default"/>.</summary>
    public BackoffPolicy Backoff { get; init; } = BackoffPolicy.Default;

    /// <summary>The application's sink: the destination of stored accounts that name none. Null: such accounts fail with a configuration error.</summary>
    public IMessageSink? Sink { get; init; }

    /// <summary>
    /// Turns a stored definition into the account to fetch; null: as a config file's account (<see cref="Configuration.FetchConfigurationOptions.ToAccounts"/>,
    /// passwords from the environment or a file on this machine). Give one to supply passwords from a secret store.
    /// </summary>
    public Func<FetchAccountDefinition, FetchAccount>? ResolveAccount { get; init; }

    /// <summary>Where the worker logs (one line per run, claims, database outages), or null.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>The <c>Poplib.Fetch</c> meter's instruments to record runs on, or null.</summary>
    public FetchMetrics? Metrics { get; init; }

    /// <summary>Called after each run with the account's new status (for an application's own dashboard), or null.</summary>
    public Action<Poplib.Fetch.State.StoredAccountStatus>? RunCompleted { get; init; }

    /// <summary>The clock for statuses; the schedule itself runs on the database's clock. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
