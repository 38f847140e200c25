namespace Poplib.Fetch.Hosting;

/// <summary>
/// What a <see cref="FetchDaemon"/> runs: its accounts (from code, from configuration, or from a source it re-reads on
/// <see cref="FetchDaemon.Reload"/>), where it keeps its state, and how it schedules. Bound by
/// <see cref="FetchServiceCollectionExtensions.AddPop3Fetch(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration, Action{FetchDaemonOptions}?)"/>;
/// a change seen through <c>IOptionsMonitor</c> reloads the accounts.
/// </summary>
public sealed class FetchDaemonOptions
{
    /// <summary>Accounts given in code. Each name must be unique across all the sources.</summary>
    public IList<FetchAccount> Accounts { get; } = [];

    /// <summary>
    /// Accounts as configuration (the shape of <c>poplib fetch</c>'s config file), turned into accounts on every
    /// (re)load; accounts that name no destination deliver into the application's <see cref="IMessageSink"/>.
    /// Its <c>state</c> is used when <see cref="StatePath"/> is not set.
    /// </summary>
    public FetchConfigurationOptions? Configuration { get; set; }

    /// <summary>
    /// A source of accounts read at start and on every reload (the CLI reads its config file here), or null. It may
    /// throw (a broken file): at start that stops the daemon; on reload the old accounts keep running.
    /// </summary>
    public Func<IReadOnlyList<FetchAccount>>? AccountSource { get; set; }

    /// <summary>The interval of accounts that set none (<see cref="FetchAccount.Interval"/>). Default 5 minutes.</summary>
    public TimeSpan DefaultInterval
    {
        get;
        set => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The interval must be positive.");
    } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The SQLite state database; null: <see cref="Configuration"/>'s <c>state</c>, else
    /// <see cref="State.SqliteFetchStateStore.DefaultPath"/>. Ignored when <see cref="StateStore"/> is set.
    /// </summary>
    public string? StatePath { get; set; }

    /// <summary>
    /// Opens a state store (another implementation of <see cref="State.IFetchStateStore"/>, e.g. PostgreSQL); null: the
    /// SQLite store at <see cref="StatePath"/>. The daemon opens one per run and one for the account statuses, and
    /// disposes them.
    /// </summary>
    public Func<State.IFetchStateStore>? StateStore { get; set; }

    /// <summary>
    /// The scheduler's options (concurrency, back-off, stop grace period, time). Its <see cref="FetchSchedulerOptions.Metrics"/>,
    /// <see cref="FetchSchedulerOptions.RunCompleted"/> and <see cref="FetchSchedulerOptions.Logger"/> are the daemon's
    /// own: values set here are replaced.
    /// </summary>
    public FetchSchedulerOptions Scheduler { get; set; } = new();

    /// <summary>The state path the daemon uses.</summary>
    internal string EffectiveStatePath => Path.GetFullPath(FetchAccountOptions.ExpandHome(
        StatePath ?? Configuration?.State ?? State.SqliteFetchStateStore.DefaultPath));
}
