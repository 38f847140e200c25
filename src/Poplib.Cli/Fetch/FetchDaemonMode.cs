using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Poplib.Fetch;
using Poplib.Fetch.Hosting;
using Poplib.Fetch.PostgreSql;
using Poplib.Fetch.PostgreSql.Hosting;
using Poplib.Fetch.PostgreSql.Workers;
using Poplib.Fetch.Scheduling;
using Poplib.Fetch.State;

namespace Poplib.Cli.Fetch;

/// <summary>
/// <c>poplib fetch --daemon</c>: the accounts on their schedules in a generic host (<see cref="FetchDaemon"/>) until
/// SIGTERM or Ctrl-C, then a graceful stop and exit 0. Under systemd (<c>Type=notify</c>) it reports ready and stopping,
/// and logs in the journal's format. SIGHUP or a change of the config file reloads the accounts; a broken new config is
/// logged and the old accounts keep running.
/// </summary>
internal static partial class FetchDaemonMode
{
    /// <summary>How long runs in flight may go on after SIGTERM before they are cancelled (the engine then QUITs without DELE of anything unrecorded).</summary>
    internal static readonly TimeSpan StopGracePeriod = TimeSpan.FromSeconds(3);

    /// <param name="accounts">The accounts as read at start (already checked).</param>
    /// <param name="reload">Reads the accounts again (the config file), or null for the one-account form.</param>
    /// <param name="configFile">The config file to watch for changes, or null.</param>
    /// <param name="state">The state: a SQLite file, or a PostgreSQL database (each run then holds its account by a lease).</param>
    /// <param name="parallel">How many accounts may run at once.</param>
    /// <param name="interval">The interval of accounts that set none.</param>
    /// <param name="quiet">Log warnings and errors only.</param>
    /// <param name="console">The console.</param>
    /// <param name="cancellationToken">Cancelled by SIGTERM or Ctrl-C.</param>
    public static async Task<int> RunAsync(IReadOnlyList<AccountSettings> accounts, Func<IReadOnlyList<AccountSettings>>? reload, string? configFile,
        StateLocation state, int parallel, TimeSpan interval, bool quiet, CliConsole console, CancellationToken cancellationToken)
    {
        IReadOnlyList<FetchAccount> ToEngine(IReadOnlyList<AccountSettings> settings) =>
            [.. settings.Select(a => a.ToFetchAccount(a.ReadPassword(), console))];

        IReadOnlyList<FetchAccount>? first = ToEngine(accounts); // passwords read before the host starts: a prompt comes first
        // The state opens now, so that a state the daemon could not use is an error with its exit code before it starts.
        state.Check();
        HostApplicationBuilder builder = NewHost(quiet);
        builder.Services.AddPop3Fetch(options =>
        {
            options.AccountSource = () => Interlocked.Exchange(ref first, null) ?? (reload is null ? ToEngine(accounts) : Reread(reload, ToEngine));
            if (state.IsPostgreSql)
                options.StateStore = state.OpenStore;
            else
                options.StatePath = state.Value;
            options.DefaultInterval = interval;
            options.Scheduler = new FetchSchedulerOptions { MaxConcurrentRuns = parallel, StopGracePeriod = StopGracePeriod };
        });

        using IHost host = builder.Build();
        FetchDaemon daemon = host.Services.GetRequiredService<FetchDaemon>();
        using PosixSignalRegistration? hangUp = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true; // SIGHUP reloads; it does not end the daemon
            daemon.Reload();
        });
        using ConfigWatcher? watcher = configFile is null ? null : new ConfigWatcher(configFile, () => daemon.Reload());
        try
        {
            await host.RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        // The daemon ended on its own only if it failed (the host logged it): that is the exit code, not 0.
        if (daemon.ExecuteTask is { IsFaulted: true } failed)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed.Exception!.InnerException!);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// <c>poplib fetch --daemon --state postgres://…</c> without <c>--config</c>: one worker of a fleet, running the accounts of
    /// the database's table (put there by <c>--sync-accounts</c>) that no other worker holds, until SIGTERM or Ctrl-C.
    /// </summary>
    public static async Task<int> RunWorkerAsync(StateLocation state, int parallel, bool quiet, CancellationToken cancellationToken)
    {
        HostApplicationBuilder builder = NewHost(quiet);
        PostgreSqlFetchDatabase? database = null; // opened below, before the worker service is first resolved
        builder.Services.AddSingleton(sp => new PostgreSqlFetchWorkerService(database!, new PostgreSqlFetchWorkerOptions
        {
            MaxConcurrentRuns = parallel,
            StopGracePeriod = StopGracePeriod,
            Logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Poplib.Fetch.Worker"),
        }));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PostgreSqlFetchWorkerService>());
        using IHost host = builder.Build();
        ILogger logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Poplib.Fetch.Worker");
        database = await OpenWhenReachableAsync(state, logger, cancellationToken);
        if (database is null)
            return ExitCodes.Ok; // stopped while waiting for the database
        PostgreSqlFetchWorkerService worker = host.Services.GetRequiredService<PostgreSqlFetchWorkerService>(); // RunAsync disposes the services
        try
        {
            await host.RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        if (worker.ExecuteTask is { IsFaulted: true } failed)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed.Exception!.InnerException!);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Opens (and migrates) the database. One that refuses the worker — the password, the role's privileges, a newer schema —
    /// is an error with its exit code at once; one that is away (restarting, failing over: no connection, or the server
    /// shutting down) is waited for, as a running worker waits for it, so that a worker (re)started during an outage does not
    /// exit. Null if stopped while waiting.
    /// </summary>
    private static async Task<PostgreSqlFetchDatabase?> OpenWhenReachableAsync(StateLocation state, ILogger logger, CancellationToken cancellationToken)
    {
        TimeSpan pause = TimeSpan.Zero;
        while (true)
        {
            try
            {
                PostgreSqlFetchDatabase database = state.Database;
                if (pause > TimeSpan.Zero)
                    LogDatabaseBack(logger, database.Display);
                return database;
            }
            catch (FetchException e) when (e.Failure == FetchFailure.State && PostgreSqlFetchDatabase.IsUnreachable(e))
            {
                pause = pause == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                LogDatabaseAway(logger, e.Message, pause.TotalSeconds);
            }

            try
            {
                await Task.Delay(pause, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }
    }

    // The worker's own wording (PostgreSqlFetchWorker's events 44 and 45), so that an outage reads the same before and after the start.
    [LoggerMessage(EventId = 44, Level = LogLevel.Warning, Message = "The database is unreachable ({Error}); trying again in {Seconds:0} s")]
    private static partial void LogDatabaseAway(ILogger logger, string error, double seconds);

    [LoggerMessage(EventId = 45, Level = LogLevel.Information, Message = "The database {Database} is back")]
    private static partial void LogDatabaseBack(ILogger logger, string database);

    /// <summary>The generic host both daemon forms run in: one-line UTC logs, systemd's notify protocol when systemd started us.</summary>
    private static HostApplicationBuilder NewHost(bool quiet)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss'Z' ";
        });
        builder.Logging.SetMinimumLevel(quiet ? LogLevel.Warning : LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddSystemd(); // Type=notify and journal-formatted logs when systemd started us; nothing otherwise
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = StopGracePeriod + TimeSpan.FromSeconds(5));
        return builder;
    }

    /// <summary>The accounts read again; a mistake in the config is a configuration failure with the reader's message (the daemon logs it and keeps the old accounts).</summary>
    private static IReadOnlyList<FetchAccount> Reread(Func<IReadOnlyList<AccountSettings>> reload, Func<IReadOnlyList<AccountSettings>, IReadOnlyList<FetchAccount>> toEngine)
    {
        try
        {
            return toEngine(reload());
        }
        catch (CliException e)
        {
            throw new FetchException(FetchFailure.Configuration, e.Message, e);
        }
    }

    /// <summary>Calls back when the config file changes (written in place or replaced by a rename), once per burst of changes.</summary>
    private sealed class ConfigWatcher : IDisposable
    {
        private readonly FileSystemWatcher _watcher;
        private readonly Timer _debounce;

        public ConfigWatcher(string file, Action changed)
        {
            string full = Path.GetFullPath(file);
            _debounce = new Timer(_ => changed(), null, Timeout.Infinite, Timeout.Infinite);
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!, Path.GetFileName(full))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            _watcher.Changed += (_, _) => Touch();
            _watcher.Created += (_, _) => Touch();
            _watcher.Renamed += (_, _) => Touch();
            _watcher.EnableRaisingEvents = true;
        }

        private void Touch() => _debounce.Change(TimeSpan.FromMilliseconds(500), Timeout.InfiniteTimeSpan);

        public void Dispose()
        {
            _watcher.Dispose();
            _debounce.Dispose();
        }
    }
}
