using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Poplib.Fetch.Configuration;
using Poplib.Fetch.Platform;
using Poplib.Fetch.PostgreSql.Accounts;
using Poplib.Fetch.Scheduling;
using Poplib.Fetch.State;

namespace Poplib.Fetch.PostgreSql.Workers;

/// <summary>
/// One worker of a fleet: claims due accounts from <see cref="PostgreSqlFetchDatabase.Accounts"/> (as many as it has free
/// slots), runs each with a lease-fenced state store, records the account's next run (its interval, or the back-off after a
/// failure) and releases the lease. Start any number of workers on any number of machines against one database: no account
/// is run by two at once, and one that dies loses its accounts to the others when its leases expire — whose next holder
/// settles what it left half-delivered before fetching.
/// </summary>
/// <remarks>
/// <para><b>The database away.</b> A claim or a status write that fails is logged and retried with a growing pause (1 s up to
/// 30 s); runs in flight lose their leases if renewals fail until the safety margin, and stop before recording or deleting
/// anything more. Nothing is lost: the next holder settles. When the database is back, the worker goes on by itself.</para>
/// <para><b>Stop.</b> When the token given to <see cref="RunAsync"/> is cancelled, no new account is claimed; runs in flight
/// get <see cref="PostgreSqlFetchWorkerOptions.StopGracePeriod"/>, then their token is cancelled; each then records its next
/// run and releases its lease, and <see cref="RunAsync"/> returns.</para>
/// <para><b>Threads.</b> Each run makes its state writes as synchronous database calls on a pool thread, so
/// <see cref="RunAsync"/> raises the process's thread pool minimum to <see cref="PostgreSqlFetchWorkerOptions.MaxConcurrentRuns"/>
/// plus the core count (never lowers it): otherwise the pool, growing by about a thread a second, starves the first runs.</para>
/// </remarks>
public sealed partial class PostgreSqlFetchWorker
{
    private readonly PostgreSqlFetchDatabase _database;
    private readonly PostgreSqlFetchWorkerOptions _options;
    private readonly ILogger _logger;
    private readonly ILogger<Fetcher> _engineLogger;
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _running = [];
    private ChildEnvironment _hidden = ChildEnvironment.None;
    private DateTimeOffset _hiddenRead = DateTimeOffset.MinValue;
    private long _runs;

    /// <summary>A worker on <paramref name="database"/>; nothing runs before <see cref="RunAsync"/>.</summary>
    /// <param name="database">The shared database.</param>
    /// <param name="options">The options, or null for the defaults.</param>
    public PostgreSqlFetchWorker(PostgreSqlFetchDatabase database, PostgreSqlFetchWorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
        _options = options ?? new PostgreSqlFetchWorkerOptions();
        _logger = _options.Logger ?? NullLogger.Instance;
        _engineLogger = new Poplib.Fetch.Hosting.FilteredLogger(_logger, 1, 2); // the engine's run lines: the worker logs each run once, with its schedule
    }

    /// <summary>Runs this worker has finished (successful or not).</summary>
    public long RunsCompleted => Interlocked.Read(ref _runs);

    /// <summary>Claims and runs accounts until <paramref name="cancellationToken"/> is cancelled, then stops gracefully.</summary>
    /// <param name="cancellationToken">Cancel to stop.</param>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var runs = new CancellationTokenSource();
        TimeSpan pause = TimeSpan.Zero;
        LogStarted(_logger, _database.Options.Owner, _database.Display, _options.MaxConcurrentRuns);
        // Every run may block a pool thread in a database call; the claim loop and the POP3 I/O need threads besides.
        ThreadPoolFloor.AtLeast(_options.MaxConcurrentRuns + Environment.ProcessorCount);
        while (!cancellationToken.IsCancellationRequested)
        {
            int free;
            Task[] running;
            lock (_gate)
            {
                free = _options.MaxConcurrentRuns - _running.Count;
                running = [.. _running];
            }

            List<AccountClaim> claims = [];
            if (free > 0)
            {
                try
                {
                    claims = await Task.Run(() => ClaimDue(free), CancellationToken.None).ConfigureAwait(false);
                    if (pause > TimeSpan.Zero)
                        LogDatabaseBack(_logger, _database.Display);
                    pause = TimeSpan.Zero;
                }
                catch (FetchException e) when (e.Failure == FetchFailure.State)
                {
                    pause = pause == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                    LogDatabaseAway(_logger, e.Message, pause.TotalSeconds);
                }
            }

            foreach (AccountClaim claim in claims)
            {
                Task run = RunClaimAsync(claim, runs.Token);
                lock (_gate)
                    _running.Add(run);
                _ = run.ContinueWith(done =>
                {
                    lock (_gate)
                        _running.Remove(done);
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            // More may be due at once if every free slot was filled; otherwise wait for a slot, the poll, or the stop.
            if (claims.Count > 0 && claims.Count == free && pause == TimeSpan.Zero)
                continue;
            TimeSpan wait = pause > TimeSpan.Zero ? pause : _options.PollInterval;
            // A slot that frees wakes the loop at once (when it had none free, or the database is not away).
            Task[] waits = pause > TimeSpan.Zero || free > 0 ? [Task.Delay(wait, cancellationToken)] : [.. running, Task.Delay(wait, cancellationToken)];
            await Task.WhenAny(waits).ConfigureAwait(false);
        }

        // Stopping: runs in flight get the grace period, then their token is cancelled.
        Task[] left;
        lock (_gate)
            left = [.. _running];
        if (left.Length > 0)
        {
            Task all = Task.WhenAll(left);
            if (await Task.WhenAny(all, Task.Delay(_options.StopGracePeriod, CancellationToken.None)).ConfigureAwait(false) != all)
                await runs.CancelAsync().ConfigureAwait(false);
            await all.ConfigureAwait(false);
        }

        LogStopped(_logger, _database.Options.Owner);
    }

    private List<AccountClaim> ClaimDue(int count)
    {
        try
        {
            using NpgsqlConnection connection = _database.Source.OpenConnection();
            if (_options.TimeProvider.GetUtcNow() - _hiddenRead > TimeSpan.FromMinutes(1))
            {
                // No delivery command may see the variable any account reads its password from, whichever worker runs it.
                _hidden = new ChildEnvironment(_database.Accounts.SecretVariables(connection), []);
                _hiddenRead = _options.TimeProvider.GetUtcNow();
            }

            return _database.Accounts.Claim(count, connection);
        }
        catch (Exception e) when (_database.Translate(e, "claim accounts in") is { } translated)
        {
            throw translated;
        }
    }

    private async Task RunClaimAsync(AccountClaim claim, CancellationToken cancellationToken)
    {
        await Task.Yield(); // the claim loop goes on while this runs
        DateTimeOffset started = _options.TimeProvider.GetUtcNow();
        FetchRunOutcome outcome;
        TimeSpan interval = claim.Interval;
        try
        {
            FetchAccount account = Resolve(claim);
            interval = account.Interval ?? claim.Interval;
            using PostgreSqlFetchStateStore state = _database.OpenLeasedStore(claim.Lease);
            FetchResult result = await new Fetcher(account, state, null, _engineLogger) { Hidden = _hidden }.RunAsync(cancellationToken).ConfigureAwait(false);
            outcome = FetchRunOutcomes.From(result);
        }
        catch (FetchException e)
        {
            outcome = FetchRunOutcomes.From(e);
        }
#pragma warning disable CA1031 // One account's unexpected failure is recorded; the worker goes on with the others.
        catch (Exception e)
#pragma warning restore CA1031
        {
            outcome = FetchRunOutcome.Failure(FetchFailure.Unexpected, $"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            claim.Lease.Dispose(); // stop renewing: Finish releases it, or it expires
        }

        DateTimeOffset ended = _options.TimeProvider.GetUtcNow();
        int failures = outcome.Succeeded ? 0
            : outcome.FailureKind is { } kind && FetchFailures.IsNotTheAccountsFault(kind) ? claim.ConsecutiveFailures
            : claim.ConsecutiveFailures + 1;
        TimeSpan delay = _options.Backoff.NextDelay(outcome, interval, failures, random: Random.Shared);
        var status = new StoredAccountStatus(claim.Name, started, ended, outcome.Succeeded ? ended : claim.LastSuccess,
            outcome.Succeeded ? "success" : Observability.FetchMetrics.TagValue(outcome.FailureKind!.Value), outcome.Succeeded ? null : outcome.ToString(),
            outcome.Succeeded ? null : ended, failures, ended + delay, claim.Runs + 1, interval, ended) { Owner = _database.Options.Owner };
        try
        {
            await Task.Run(() =>
            {
                using NpgsqlConnection connection = _database.Source.OpenConnection();
                _database.Accounts.Finish(claim, status, delay, connection);
            }, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Not recorded: the lease expires and the account is run again then; nothing is lost.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogFinishFailed(_logger, claim.Name, _database.Translate(e, "record the run in")?.Message ?? e.Message);
        }

        _options.Metrics?.RecordRun(claim.Name, outcome, ended - started);
        if (outcome.Succeeded)
            LogRun(_logger, claim.Name, outcome.MessagesDelivered, (ended - started).TotalSeconds, delay.TotalSeconds);
        else
            LogRunFailed(_logger, claim.Name, outcome.ToString(), delay.TotalSeconds);
        _options.RunCompleted?.Invoke(status);
        Interlocked.Increment(ref _runs);
    }

    private FetchAccount Resolve(AccountClaim claim)
    {
        FetchAccountDefinition definition = FetchAccountDefinition.FromJson(claim.Name, claim.Definition);
        FetchAccount account = _options.ResolveAccount?.Invoke(definition)
            ?? new FetchConfigurationOptions { Accounts = [definition.Settings] }
                .ToAccounts(destination: _options.Sink is null ? null : FetchDestination.Sink(_options.Sink))[0];
        return account.Key.ToString() == claim.Mailbox
            ? account
            : throw new FetchException(FetchFailure.Configuration, $"the account resolves to the mailbox {account.Key}, but the table says {claim.Mailbox}: sync the accounts again");
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Fetch worker {Owner} started on {Database}, up to {Parallel} account(s) at once")]
    private static partial void LogStarted(ILogger logger, string owner, string database, int parallel);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "Fetch worker {Owner} stopped")]
    private static partial void LogStopped(ILogger logger, string owner);

    [LoggerMessage(EventId = 42, Level = LogLevel.Information, Message = "{Account}: {Delivered} new message(s) in {Seconds:0.0} s; next run in {Next:0} s")]
    private static partial void LogRun(ILogger logger, string account, int delivered, double seconds, double next);

    [LoggerMessage(EventId = 43, Level = LogLevel.Warning, Message = "{Account}: {Outcome}; next run in {Next:0} s")]
    private static partial void LogRunFailed(ILogger logger, string account, string outcome, double next);

    [LoggerMessage(EventId = 44, Level = LogLevel.Warning, Message = "The database is unreachable ({Error}); trying again in {Seconds:0} s")]
    private static partial void LogDatabaseAway(ILogger logger, string error, double seconds);

    [LoggerMessage(EventId = 45, Level = LogLevel.Information, Message = "The database {Database} is back")]
    private static partial void LogDatabaseBack(ILogger logger, string database);

    [LoggerMessage(EventId = 46, Level = LogLevel.Warning, Message = "{Account}: the run's end could not be recorded ({Error}); the account is run again when its lease expires")]
    private static partial void LogFinishFailed(ILogger logger, string account, string error);
}
