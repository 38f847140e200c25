using Microsoft.Extensions.Logging;

namespace Poplib.Fetch.Scheduling;

/// <summary>
/// Runs a set of accounts, each on its own schedule: a run delegate per account, the next run planned by the account's
/// <see cref="BackoffPolicy"/> from how the last one ended, at most <see cref="FetchSchedulerOptions.MaxConcurrentRuns"/>
/// runs at once, never two runs of one account at once. The engine of <c>poplib fetch --daemon</c> and of hosted fetching.
/// </summary>
/// <remarks>
/// <para><b>Schedule.</b> <see cref="RunAsync"/> spreads the first runs at random over
/// <see cref="FetchSchedulerOptions.MaxInitialSpread"/> (or the interval, if shorter). After each run the next is due after
/// <see cref="BackoffPolicy.NextDelay"/>, measured from the run's end. A due account that finds every slot taken starts when
/// one frees, the most overdue first.</para>
/// <para><b>Failures.</b> The delegate returns a <see cref="FetchRunOutcome"/>; if it throws instead, the run is recorded as
/// <see cref="FetchFailure.Unexpected"/> with the exception's type and message, and the scheduler goes on.</para>
/// <para><b>Reload.</b> <see cref="UpdateAccounts"/> replaces the set while running; runs in flight are never cancelled by it.</para>
/// <para><b>Stop.</b> When the token given to <see cref="RunAsync"/> is cancelled, no new run starts; runs in flight go on for
/// <see cref="FetchSchedulerOptions.StopGracePeriod"/>, after which the token they were given is cancelled; when the last one
/// has returned, <see cref="RunAsync"/> returns (normally, not with <see cref="OperationCanceledException"/>). A run that ends
/// with <see cref="OperationCanceledException"/> once that token is cancelled is recorded as <see cref="FetchFailure.Canceled"/>.</para>
/// <para><b>Status.</b> <see cref="GetStatus()"/> returns immutable snapshots kept in memory: a <c>--status</c> command in another
/// process needs them written somewhere (the state store) by whoever runs the scheduler. Runs are recorded on
/// <see cref="FetchSchedulerOptions.Metrics"/> and logged on <see cref="FetchSchedulerOptions.Logger"/> when those are given.</para>
/// <para>All times come from <see cref="FetchSchedulerOptions.TimeProvider"/>. The members are thread-safe.</para>
/// </remarks>
public sealed partial class FetchScheduler
{
    private readonly Func<string, CancellationToken, Task<FetchRunOutcome>> _run;
    private readonly FetchSchedulerOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Account> _accounts = new(StringComparer.Ordinal);
    private TaskCompletionSource _wake = NewSignal();
    private TaskCompletionSource? _drained;
    private ITimer? _timer;
    private bool _started;
    private bool _stopping;
    private bool _loopWaiting;
    private bool _draining;
    private int _running;
    private int _completing;

    /// <summary>A scheduler over <paramref name="accounts"/>; nothing runs before <see cref="RunAsync"/>.</summary>
    /// <param name="accounts">The accounts; names must be unique.</param>
    /// <param name="runAccount">
    /// Runs one account once: given the account's name and a token that is cancelled only when the scheduler stops and the
    /// grace period has passed, returns how the run ended. Called on the thread pool, never twice at once for one account.
    /// </param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    public FetchScheduler(IEnumerable<FetchAccountSchedule> accounts,
        Func<string, CancellationToken, Task<FetchRunOutcome>> runAccount, FetchSchedulerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(runAccount);
        _run = runAccount;
        _options = options ?? new FetchSchedulerOptions();
        _time = _options.TimeProvider;
        _random = _options.Random ?? Random.Shared;
        foreach (FetchAccountSchedule schedule in Validate(accounts))
            _accounts.Add(schedule.Name, NewAccount(schedule));
    }

    /// <summary>
    /// Runs the accounts until <paramref name="cancellationToken"/> is cancelled, then stops gracefully (see the remarks on
    /// <see cref="FetchScheduler"/>). Call once.
    /// </summary>
    /// <param name="cancellationToken">Cancel to stop.</param>
    /// <returns>A task that completes when the scheduler has stopped and no run is in flight.</returns>
    /// <exception cref="InvalidOperationException">The scheduler was already started.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var runs = new CancellationTokenSource();
        lock (_gate)
        {
            if (_started)
                throw new InvalidOperationException("The scheduler has already been started; it runs once.");
            _started = true;
            DateTimeOffset now = _time.GetUtcNow();
            foreach (Account account in _accounts.Values)
                account.Status = account.Status with { NextRun = now + FirstRunDelay(account) };
        }

        using (cancellationToken.UnsafeRegister(static s => ((FetchScheduler)s!).Wake(), this))
        {
            while (true)
            {
                List<Account> due;
                Task wake;
                lock (_gate)
                {
                    if (cancellationToken.IsCancellationRequested)
                        break;
                    DateTimeOffset now = _time.GetUtcNow();
                    due = TakeDueAccounts(now);
                    _wake = NewSignal();
                    wake = _wake.Task;
                    _timer?.Dispose();
                    _timer = NextWakeDelay(now) is { } delay
                        ? _time.CreateTimer(static s => ((FetchScheduler)s!).Wake(), this, delay, Timeout.InfiniteTimeSpan)
                        : null;
                    _loopWaiting = true;
                }
                foreach (Account account in due)
                    _ = RunOneAsync(account, runs.Token);
                await wake.ConfigureAwait(false);
            }
        }

        Task drained;
        lock (_gate)
        {
            _stopping = true;
            _loopWaiting = false;
            _timer?.Dispose();
            _timer = null;
            foreach (Account account in _accounts.Values)
                account.Status = account.Status with { NextRun = null };
            drained = _running == 0 ? Task.CompletedTask : (_drained = NewSignal()).Task;
        }
        // The grace period: runs in flight finish their durable group and QUIT; then their token is cancelled. The timer is
        // made outside the lock: with a zero grace it may fire at once, and cancelling runs the runs' own callbacks.
        using ITimer? grace = drained.IsCompleted ? null
            : _time.CreateTimer(static s => CancelRuns((CancellationTokenSource)s!), runs, _options.StopGracePeriod, Timeout.InfiniteTimeSpan);
        lock (_gate)
            _draining = true;
        await drained.ConfigureAwait(false);
    }

    /// <summary>
    /// Replaces the set of accounts (a reload: SIGHUP, a changed configuration file). New accounts join with their first run
    /// spread as at start; removed accounts leave at once, or when their run in flight has finished (it is not cancelled);
    /// an account whose settings changed keeps its state, and its next run is planned again from the end of its last run
    /// under the new settings (a run in flight uses them when it ends).
    /// </summary>
    /// <param name="accounts">The new set; names must be unique.</param>
    public void UpdateAccounts(IEnumerable<FetchAccountSchedule> accounts)
    {
        List<FetchAccountSchedule> schedules = Validate(accounts);
        var forgotten = new List<string>();
        lock (_gate)
        {
            DateTimeOffset now = _time.GetUtcNow();
            var names = new HashSet<string>(schedules.Select(s => s.Name), StringComparer.Ordinal);
            foreach (Account account in _accounts.Values.Where(a => !names.Contains(a.Schedule.Name)).ToList())
            {
                if (account.Status.IsRunning)
                {
                    account.Status = account.Status with { IsRemoved = true };
                }
                else
                {
                    _accounts.Remove(account.Schedule.Name);
                    forgotten.Add(account.Schedule.Name);
                }
            }
            foreach (FetchAccountSchedule schedule in schedules)
            {
                if (!_accounts.TryGetValue(schedule.Name, out Account? account))
                {
                    account = NewAccount(schedule);
                    _accounts.Add(schedule.Name, account);
                    if (_started && !_stopping)
                        account.Status = account.Status with { NextRun = now + FirstRunDelay(account) };
                    continue;
                }
                account.Status = account.Status with { IsRemoved = false };
                if (account.Schedule == schedule)
                    continue;
                account.Schedule = schedule;
                if (account.Status is { NextRun: not null, LastOutcome: { } last, LastRunEnded: { } ended })
                    account.Status = account.Status with { NextRun = ended + NextDelay(account, last) };
            }
            WakeLocked();
        }
        foreach (string name in forgotten)
            _options.Metrics?.ForgetAccount(name);
    }

    /// <summary>A snapshot of every account, ordered by name.</summary>
    public IReadOnlyList<FetchAccountStatus> GetStatus()
    {
        lock (_gate)
            return [.. _accounts.Values.OrderBy(a => a.Schedule.Name, StringComparer.Ordinal).Select(a => a.Status)];
    }

    /// <summary>A snapshot of the account named <paramref name="account"/>, or <see langword="null"/> if there is none.</summary>
    /// <param name="account">The account's name.</param>
    public FetchAccountStatus? GetStatus(string account)
    {
        ArgumentNullException.ThrowIfNull(account);
        lock (_gate)
            return _accounts.TryGetValue(account, out Account? found) ? found.Status : null;
    }

    /// <summary>
    /// For tests: the loop is parked on its timer or on a run's end (or, stopping, on the runs in flight), no finished run is
    /// still being logged or reported, and nothing is left to do until a timer fires.
    /// </summary>
    internal bool IsWaiting
    {
        get
        {
            lock (_gate)
                return (_loopWaiting || _draining) && _completing == 0;
        }
    }

    /// <summary>For tests: runs in flight.</summary>
    internal int RunningCount
    {
        get
        {
            lock (_gate)
                return _running;
        }
    }

    private async Task RunOneAsync(Account account, CancellationToken token)
    {
        string name = account.Schedule.Name;
        long started = _time.GetTimestamp();
        FetchRunOutcome outcome;
        Exception? unexpected = null;
        try
        {
            outcome = await Task.Run(() => _run(name, token), CancellationToken.None).ConfigureAwait(false)
                ?? FetchRunOutcome.Failure(FetchFailure.Unexpected, "The run delegate returned no outcome.");
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            outcome = FetchRunOutcome.Failure(FetchFailure.Canceled,
                "Cancelled: the scheduler stopped and the grace period ran out.");
        }
#pragma warning disable CA1031 // A delegate that throws must never take the scheduler down: it is recorded as a failure.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            unexpected = ex;
            outcome = FetchRunOutcome.Failure(FetchFailure.Unexpected, $"{ex.GetType().Name}: {ex.Message}");
        }
        TimeSpan duration = _time.GetElapsedTime(started);
        _options.Metrics?.RecordRun(name, outcome, duration);
        Complete(account, outcome, duration, unexpected);
    }

    private void Complete(Account account, FetchRunOutcome outcome, TimeSpan duration, Exception? unexpected)
    {
        bool forget = false;
        TimeSpan? next = null;
        FetchAccountStatus final;
        TaskCompletionSource? drained;
        lock (_gate)
        {
            DateTimeOffset now = _time.GetUtcNow();
            _running--;
            FetchAccountStatus status = account.Status with
            {
                IsRunning = false,
                Runs = account.Status.Runs + 1,
                LastRunEnded = now,
                LastRunDuration = duration,
                LastOutcome = outcome,
            };
            if (outcome.Succeeded)
            {
                status = status with { ConsecutiveFailures = 0, LastSuccess = now };
                account.KnownLoginDelay = outcome.ServerDelay;
            }
            else
            {
                bool counts = outcome.FailureKind is not { } kind || !FetchFailures.IsNotTheAccountsFault(kind);
                status = status with
                {
                    ConsecutiveFailures = status.ConsecutiveFailures + (counts ? 1 : 0),
                    LastError = outcome.ToString(),
                    LastErrorAt = now,
                };
                if (outcome.FailureKind == FetchFailure.LoginDelay && outcome.ServerDelay is { } delay)
                    account.KnownLoginDelay = delay;
            }
            account.Status = status;

            if (status.IsRemoved)
            {
                _accounts.Remove(account.Schedule.Name);
                forget = true;
            }
            else if (!_stopping)
            {
                next = NextDelay(account, outcome);
                account.Status = status with { NextRun = now + next };
            }
            final = account.Status;
            drained = _stopping && _running == 0 ? _drained : null;
            _completing++;
            WakeLocked();
        }
        if (forget)
            _options.Metrics?.ForgetAccount(account.Schedule.Name);
        if (_options.Logger is { } logger)
            LogRun(logger, account.Schedule.Name, outcome, duration, next, unexpected);
        if (_options.RunCompleted is { } callback)
            NotifyRunCompleted(callback, final);
        lock (_gate)
            _completing--;
        // Only now may RunAsync return: the last run's status has been handed to RunCompleted (and so, perhaps, persisted).
        drained?.TrySetResult();
    }

    private void NotifyRunCompleted(Action<FetchAccountStatus> callback, FetchAccountStatus status)
    {
        try
        {
            callback(status);
        }
#pragma warning disable CA1031 // The callback is the application's; its failure must not take the scheduler down.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (_options.Logger is { } logger)
                LogCallbackFailed(logger, ex, status.Name);
        }
    }

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Account {Account}: the RunCompleted callback threw")]
    private static partial void LogCallbackFailed(ILogger logger, Exception exception, string account);

    private static void LogRun(ILogger logger, string name, FetchRunOutcome outcome, TimeSpan duration, TimeSpan? next,
        Exception? unexpected)
    {
        double seconds = duration.TotalSeconds;
        double? nextSeconds = next?.TotalSeconds;
        if (unexpected is not null)
            LogUnexpected(logger, unexpected, name, seconds, nextSeconds);
        else if (outcome.Succeeded)
            LogSuccess(logger, name, outcome.MessagesDelivered, outcome.OctetsDelivered, seconds, nextSeconds);
        else
            LogFailure(logger, name, outcome.FailureKind, outcome.Error, outcome.MessagesDelivered, seconds, nextSeconds);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Account {Account}: {Messages} messages ({Octets} octets) in {Seconds:0.0} s; next run in {NextSeconds:0} s")]
    private static partial void LogSuccess(ILogger logger, string account, int messages, long octets, double seconds, double? nextSeconds);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "Account {Account}: failed ({Kind}: {Error}) after {Messages} messages in {Seconds:0.0} s; next run in {NextSeconds:0} s")]
    private static partial void LogFailure(ILogger logger, string account, FetchFailure? kind, string? error, int messages,
        double seconds, double? nextSeconds);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error,
        Message = "Account {Account}: the run threw unexpectedly after {Seconds:0.0} s; next run in {NextSeconds:0} s")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string account, double seconds, double? nextSeconds);

    /// <summary>Marks the due accounts running, most overdue first, as far as the free slots go.</summary>
    private List<Account> TakeDueAccounts(DateTimeOffset now)
    {
        var due = new List<Account>();
        int free = _options.MaxConcurrentRuns - _running;
        if (free <= 0)
            return due;
        foreach (Account account in _accounts.Values
            .Where(a => a.Status is { IsRunning: false, IsRemoved: false } && a.Status.NextRun <= now)
            .OrderBy(a => a.Status.NextRun)
            .ThenBy(a => a.Schedule.Name, StringComparer.Ordinal)
            .Take(free))
        {
            account.Status = account.Status with { IsRunning = true, NextRun = null, LastRunStarted = now };
            _running++;
            due.Add(account);
        }
        return due;
    }

    /// <summary>How long until the next account is due, or <see langword="null"/> if only a run's end can change anything.</summary>
    private TimeSpan? NextWakeDelay(DateTimeOffset now)
    {
        if (_running >= _options.MaxConcurrentRuns)
            return null;
        DateTimeOffset? earliest = null;
        foreach (Account account in _accounts.Values)
        {
            if (account.Status is { IsRunning: false, NextRun: { } next } && (earliest is null || next < earliest))
                earliest = next;
        }
        return earliest is { } due ? (due > now ? due - now : TimeSpan.Zero) : null;
    }

    private TimeSpan NextDelay(Account account, FetchRunOutcome outcome) =>
        (account.Schedule.Backoff ?? _options.Backoff).NextDelay(outcome, account.Schedule.Interval,
            account.Status.ConsecutiveFailures, account.KnownLoginDelay, account.Random);

    private TimeSpan FirstRunDelay(Account account)
    {
        TimeSpan interval = account.Schedule.Interval;
        TimeSpan spread = interval < _options.MaxInitialSpread ? interval : _options.MaxInitialSpread;
        return TimeSpan.FromTicks((long)(spread.Ticks * account.Random.NextDouble()));
    }

    /// <summary>
    /// A new account with a random source of its own, seeded from the scheduler's: its jitter then depends only on its own
    /// runs, not on the order in which runs of other accounts happened to end, so a seeded schedule repeats exactly.
    /// </summary>
    private Account NewAccount(FetchAccountSchedule schedule)
    {
        int seed;
        lock (_random) // Random is not thread-safe; Random.Shared is, and locking it costs nothing of note.
            seed = _random.Next();
        return new Account(schedule, new Random(seed));
    }

    private static void CancelRuns(CancellationTokenSource runs)
    {
        try
        {
            runs.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The grace timer fired just as the last run returned and RunAsync disposed the source: nothing left to cancel.
        }
    }

    private void Wake()
    {
        lock (_gate)
            WakeLocked();
    }

    private void WakeLocked()
    {
        _loopWaiting = false;
        _wake.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static List<FetchAccountSchedule> Validate(IEnumerable<FetchAccountSchedule> accounts)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        List<FetchAccountSchedule> list = [.. accounts];
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (FetchAccountSchedule schedule in list)
        {
            ArgumentNullException.ThrowIfNull(schedule, nameof(accounts));
            if (!names.Add(schedule.Name))
                throw new ArgumentException($"The account name '{schedule.Name}' appears more than once.", nameof(accounts));
        }
        return list;
    }

    /// <summary>One account: its settings, its status (replaced whole on every change), and what the server said of logins.</summary>
    private sealed class Account(FetchAccountSchedule schedule, Random random)
    {
        /// <summary>The account's own source of jitter; used under <see cref="_gate"/> only.</summary>
        public Random Random { get; } = random;

        public FetchAccountSchedule Schedule
        {
            get;
            set
            {
                field = value;
                Status = Status with { Interval = value.Interval };
            }
        } = schedule;

        /// <summary>The snapshot <see cref="GetStatus()"/> hands out; guarded by <see cref="_gate"/>.</summary>
        public FetchAccountStatus Status { get; set; } = new() { Name = schedule.Name, Interval = schedule.Interval };

        /// <summary>The last CAPA <c>LOGIN-DELAY</c> the server announced: a floor under every delay.</summary>
        public TimeSpan? KnownLoginDelay { get; set; }
    }
}
