using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Poplib.Fetch.Observability;

namespace Poplib.Fetch.Hosting;

/// <summary>
/// The retriever as a long-running service: a <see cref="BackgroundService"/> that fetches each account on its own
/// schedule (<see cref="FetchScheduler"/>: interval with jitter, back-off on failures honouring <c>[LOGIN-DELAY]</c>,
/// <c>[IN-USE]</c> and <c>[SYS/TEMP]</c>), each run a <see cref="Fetcher"/> with a state store of its own.
/// Register it with <see cref="FetchServiceCollectionExtensions.AddPop3Fetch(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{FetchDaemonOptions})"/>.
/// </summary>
/// <remarks>
/// <para><b>Status.</b> After each run the account's status (last run, last success, last error, consecutive failures, next
/// run) is written to the state store's account-status table (<see cref="IFetchStateStore.SaveAccountStatus"/>), where
/// <c>poplib fetch --status</c> or another process reads it; <see cref="GetStatus"/> gives it in process.</para>
/// <para><b>Reload.</b> <see cref="Reload"/>, or a change of the options seen through <see cref="IOptionsMonitor{TOptions}"/>,
/// re-reads the accounts: added ones are scheduled, removed ones leave (a run in flight finishes), changed ones take their new
/// settings at their next run. A source that fails (a broken config) is logged and the old accounts keep running.</para>
/// <para><b>Stop.</b> When the host stops, no new run starts; runs in flight finish their durable group and QUIT within
/// <see cref="FetchSchedulerOptions.StopGracePeriod"/>, after which they are cancelled — and the engine never DELEs a message
/// that is not durably delivered and recorded, whenever it is cancelled.</para>
/// <para><b>Logs.</b> One line per run per account (Information on success, Warning on failure), the engine's warnings,
/// and reloads. <b>Metrics</b>: the <c>Poplib.Fetch</c> meter (<see cref="FetchMetrics"/>).</para>
/// </remarks>
public sealed partial class FetchDaemon : BackgroundService
{
    private readonly IOptionsMonitor<FetchDaemonOptions> _options;
    private readonly IMessageSink? _sink;
    private readonly ILogger _logger;
    private readonly ILogger<Fetcher> _engineLogger;
    private readonly FetchMetrics _metrics;
    private readonly bool _ownsMetrics;
    private readonly Lock _gate = new();
    private readonly Lock _statusGate = new();
    private readonly Lock _reloadGate = new(); // SIGHUP, a file watcher and the options monitor may reload at once
    private Dictionary<string, FetchAccount> _accounts = [];
    private ChildEnvironment _hidden = ChildEnvironment.None;
    private FetchScheduler? _scheduler;
    private FetchDaemonOptions? _started;
    private IFetchStateStore? _statusStore;

    /// <summary>Creates the daemon.</summary>
    /// <param name="options">Its options; a change reloads the accounts.</param>
    /// <param name="sink">The application's sink, the destination of configured accounts that name none; or null.</param>
    /// <param name="logger">Where it logs, or null.</param>
    /// <param name="metrics">Its metrics (the <c>Poplib.Fetch</c> meter), or null for a meter of its own.</param>
    public FetchDaemon(IOptionsMonitor<FetchDaemonOptions> options, IMessageSink? sink = null, ILogger<FetchDaemon>? logger = null,
        FetchMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _sink = sink;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _engineLogger = new FilteredLogger(_logger, 1, 2); // the engine's RunFinished and RunFailed: the scheduler logs the run
        _ownsMetrics = metrics is null;
        _metrics = metrics ?? new FetchMetrics();
    }

    /// <summary>Each account's status in this process (empty before the daemon started).</summary>
    public IReadOnlyList<FetchAccountStatus> GetStatus() => _scheduler?.GetStatus() ?? [];

    /// <summary>The names of the accounts being run.</summary>
    public IReadOnlyList<string> AccountNames
    {
        get
        {
            lock (_gate)
                return [.. _accounts.Keys];
        }
    }

    /// <summary>
    /// Re-reads the accounts from the options (code, configuration, <see cref="FetchDaemonOptions.AccountSource"/>) and
    /// applies them without stopping runs in flight. Returns false, logs why and keeps the old accounts if they cannot
    /// be read or are invalid.
    /// </summary>
    public bool Reload() => ReloadFrom(_options.CurrentValue);

    private bool ReloadFrom(FetchDaemonOptions options)
    {
        if (_scheduler is not { } scheduler)
            return false;
        lock (_reloadGate)
        {
            List<FetchAccount> accounts;
            try
            {
                accounts = ReadAccounts(options);
            }
#pragma warning disable CA1031 // A broken new configuration is reported; the old accounts keep running.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogReloadFailed(_logger, e.Message, e is FetchException ? null : e);
                return false;
            }

            scheduler.UpdateAccounts(Apply(accounts, options));
            LogReloaded(_logger, accounts.Count);
            return true;
        }
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        FetchDaemonOptions options = _options.CurrentValue;
        _started = options;
        List<FetchAccount> accounts = ReadAccounts(options); // a broken configuration at start stops the host
        _statusStore = OpenStore(options);
        try
        {
            FetchSchedulerOptions scheduling = options.Scheduler with
            {
                Metrics = _metrics,
                Logger = _logger,
                RunCompleted = SaveStatus,
            };
            var scheduler = new FetchScheduler(Apply(accounts, options), RunAsync, scheduling);
            _scheduler = scheduler;
            LogStarted(_logger, accounts.Count, options.EffectiveStatePath);
            using IDisposable? subscription = _options.OnChange(changed => ReloadFrom(changed));
            await scheduler.RunAsync(stoppingToken).ConfigureAwait(false);
            foreach (FetchAccountStatus status in scheduler.GetStatus())
                SaveStatus(status with { NextRun = null }); // stopped: no run is due
            LogStopped(_logger);
        }
        finally
        {
            lock (_statusGate)
            {
                _statusStore.Dispose();
                _statusStore = null;
            }
        }
    }

    /// <summary>Disposes the metrics if the daemon created them (not those it was given).</summary>
    public override void Dispose()
    {
        if (_ownsMetrics)
            _metrics.Dispose();
        base.Dispose();
    }

    private List<FetchAccount> ReadAccounts(FetchDaemonOptions options)
    {
        var accounts = new List<FetchAccount>(options.Accounts);
        if (options.Configuration is { } configuration)
            accounts.AddRange(configuration.ToAccounts(destination: _sink is null ? null : FetchDestination.Sink(_sink)));
        if (options.AccountSource is { } source)
            accounts.AddRange(source());
        if (accounts.Count == 0)
            throw new FetchException(FetchFailure.Configuration, "the fetch daemon has no accounts");
        foreach (IGrouping<string, FetchAccount> same in accounts.GroupBy(a => a.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
            throw new FetchException(FetchFailure.Configuration, $"two accounts are called \"{same.Key}\"");
        foreach (IGrouping<AccountKey, FetchAccount> same in accounts.GroupBy(a => a.Key).Where(g => g.Count() > 1))
            throw new FetchException(FetchFailure.Configuration, $"the accounts {string.Join(" and ", same.Select(a => $"\"{a.Name}\""))} fetch the same mailbox ({same.Key}); keep one");
        return accounts;
    }

    /// <summary>Makes <paramref name="accounts"/> the ones runs look up, and returns their schedules.</summary>
    private List<FetchAccountSchedule> Apply(IReadOnlyList<FetchAccount> accounts, FetchDaemonOptions options)
    {
        lock (_gate)
        {
            _accounts = accounts.ToDictionary(a => a.Name, StringComparer.Ordinal);
            // No delivery command of any account may see the variable any account reads its password from.
            _hidden = new ChildEnvironment(accounts.SelectMany(a => a.SecretVariables), []);
        }
        return [.. accounts.Select(a => new FetchAccountSchedule(a.Name, a.Interval ?? options.DefaultInterval))];
    }

    private static IFetchStateStore OpenStore(FetchDaemonOptions options) =>
        options.StateStore?.Invoke() ?? SqliteFetchStateStore.Open(options.EffectiveStatePath);

    private async Task<FetchRunOutcome> RunAsync(string name, CancellationToken cancellationToken)
    {
        FetchAccount? account;
        ChildEnvironment hidden;
        lock (_gate)
        {
            account = _accounts.GetValueOrDefault(name);
            hidden = _hidden;
        }
        if (account is null)
            return FetchRunOutcome.Failure(FetchFailure.Configuration, "the account is no longer configured");
        try
        {
            using IFetchStateStore state = OpenStore(_started!);
            FetchResult result = await new Fetcher(account, state, null, _engineLogger) { Hidden = hidden }.RunAsync(cancellationToken).ConfigureAwait(false);
            return FetchRunOutcomes.From(result);
        }
        catch (FetchException e)
        {
            return FetchRunOutcomes.From(e);
        }
    }

    private void SaveStatus(FetchAccountStatus status)
    {
        lock (_statusGate)
        {
            if (_statusStore is null)
                return;
            try
            {
                _statusStore.SaveAccountStatus(StoredAccountStatus.From(status, (_started?.Scheduler.TimeProvider ?? TimeProvider.System).GetUtcNow()));
            }
#pragma warning disable CA1031 // The status is for people; a failure to write it must not stop the fetching.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogStatusFailed(_logger, status.Name, e);
            }
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Fetch daemon started: {Count} account(s), state {StatePath}")]
    private static partial void LogStarted(ILogger logger, int count, string statePath);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Fetch daemon stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(EventId = 22, Level = LogLevel.Information, Message = "Accounts reloaded: {Count} account(s)")]
    private static partial void LogReloaded(ILogger logger, int count);

    [LoggerMessage(EventId = 23, Level = LogLevel.Error, Message = "Reload failed, the old accounts keep running: {Error}")]
    private static partial void LogReloadFailed(ILogger logger, string error, Exception? exception);

    [LoggerMessage(EventId = 24, Level = LogLevel.Warning, Message = "{Account}: cannot record the account's status")]
    private static partial void LogStatusFailed(ILogger logger, string account, Exception exception);
}
