namespace Poplib.Fetch.Scheduling;

/// <summary>
/// How long an account waits after a run before its next one: the account's interval after a success, a growing delay
/// after consecutive failures, and never less than the server asked for. Immutable; change a default with
/// <c>BackoffPolicy.Default with { … }</c>.
/// </summary>
/// <remarks>
/// <para>The rules, for the <c>n</c>-th consecutive failure (<c>n</c> = 1 for the first), in the defaults:</para>
/// <list type="bullet">
/// <item><description><b>Success</b>: the interval. The failure count resets.</description></item>
/// <item><description><b>Transient failures</b> (<see cref="FetchFailure.Connection"/>, <see cref="FetchFailure.Timeout"/>,
/// <see cref="FetchFailure.Tls"/>, <see cref="FetchFailure.InUse"/>, <see cref="FetchFailure.ServerTemporary"/>,
/// <see cref="FetchFailure.Protocol"/>, <see cref="FetchFailure.Destination"/>, <see cref="FetchFailure.DestinationBusy"/>,
/// <see cref="FetchFailure.Rejected"/>, <see cref="FetchFailure.State"/>, <see cref="FetchFailure.RunTimeExceeded"/>,
/// <see cref="FetchFailure.Unexpected"/>; <see cref="FetchFailures"/> says why each is where it is): <see cref="FailureDelays"/>[n − 1], the last entry repeating —
/// 30 s, 1 min, 2 min, 5 min, 15 min, 30 min, 1 h, 1 h, … — capped at <see cref="MaximumFailureDelay"/> (1 h). A failed run
/// delivered nothing, so its retry may come sooner than the interval; a long interval is no reason to leave a
/// transient failure unretried for a day.</description></item>
/// <item><description><b>Permanent failures</b> (<see cref="FetchFailure.Authentication"/>, <see cref="FetchFailure.ServerPermanent"/>,
/// <see cref="FetchFailure.ServerRefused"/>,
/// <see cref="FetchFailure.Configuration"/>, <see cref="FetchFailure.IdentityChanged"/>):
/// <see cref="PermanentFailureDelay"/> × <see cref="PermanentFailureFactor"/>^(n − 1) — 15 min, 1 h, 4 h, then
/// <see cref="MaximumPermanentFailureDelay"/> (6 h) — and never less than the interval. A wrong password is tried 3 times in
/// the first 5 hours (at 0, 15 min and 1 h 15 min) and every 6 hours after that, far below the lock-out thresholds of common servers (typically
/// 5–10 failures within 15–60 minutes), while a fixed password is picked up within hours without a restart.</description></item>
/// <item><description><b><see cref="FetchFailure.LoginDelay"/></b>: the transient delay, but at least the server's delay, or
/// <see cref="UnknownLoginDelay"/> (15 min) when the server did not announce one.</description></item>
/// <item><description><b><see cref="FetchFailure.AccountLocked"/></b> (another local process is fetching this account): the
/// interval, without escalation.</description></item>
/// <item><description><b><see cref="FetchFailure.Canceled"/></b>: the interval (it only happens when the scheduler stops).</description></item>
/// </list>
/// <para>Whatever the kind, the delay is at least the server's delay of this run (<see cref="FetchRunOutcome.ServerDelay"/>) and the
/// account's last known CAPA <c>LOGIN-DELAY</c>. Jitter of ±<see cref="JitterFraction"/> (10 %) is applied last, uniformly, so that
/// a fleet of accounts does not fall into step; it never takes the delay below the server's minimum.</para>
/// <para>The shape follows Sonarr's provider back-off (an escalation table, a server hint as a minimum), with POP3's
/// <c>[LOGIN-DELAY]</c> and <c>[IN-USE]</c> in the place of HTTP's <c>Retry-After</c> and 429.</para>
/// </remarks>
public sealed record BackoffPolicy
{
    /// <summary>The defaults described on <see cref="BackoffPolicy"/>.</summary>
    public static BackoffPolicy Default { get; } = new();

    /// <summary>
    /// The delay after the first, second, … consecutive transient failure; the last entry repeats.
    /// Default: 30 s, 1 min, 2 min, 5 min, 15 min, 30 min, 1 h. Must be non-empty, no entry negative.
    /// </summary>
    public IReadOnlyList<TimeSpan> FailureDelays
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Count == 0 || value.Any(d => d < TimeSpan.Zero))
                throw new ArgumentException("The failure delays must be a non-empty list of non-negative durations.", nameof(value));
            field = [.. value];
        }
    } = [TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(5),
         TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1)];

    /// <summary>The cap on a transient failure's delay (before the server's minimum and jitter). Default 1 hour.</summary>
    public TimeSpan MaximumFailureDelay { get; init => field = OptionChecks.NonNegative(value); } = TimeSpan.FromHours(1);

    /// <summary>The delay after the first consecutive permanent failure (a refused password, <c>[SYS/PERM]</c>). Default 15 minutes.</summary>
    public TimeSpan PermanentFailureDelay { get; init => field = OptionChecks.NonNegative(value); } = TimeSpan.FromMinutes(15);

    /// <summary>By how much each further consecutive permanent failure multiplies the delay. Default 4; at least 1.</summary>
    public double PermanentFailureFactor
    {
        get;
        init => field = value >= 1 && double.IsFinite(value)
            ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The factor must be a finite number of at least 1.");
    } = 4;

    /// <summary>The cap on a permanent failure's delay. Default 6 hours.</summary>
    public TimeSpan MaximumPermanentFailureDelay { get; init => field = OptionChecks.NonNegative(value); } = TimeSpan.FromHours(6);

    /// <summary>
    /// The least wait after <c>[LOGIN-DELAY]</c> when the server did not announce its delay in CAPA. Default 15 minutes: the
    /// server has just refused us for logging in too often, and a guess on the short side would be refused again.
    /// </summary>
    public TimeSpan UnknownLoginDelay { get; init => field = OptionChecks.NonNegative(value); } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The jitter: each delay is multiplied by a uniform random factor in [1 − f, 1 + f]. Default 0.1 (±10 %); 0 turns it off;
    /// less than 1.
    /// </summary>
    public double JitterFraction
    {
        get;
        init => field = value is >= 0 and < 1
            ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The jitter fraction must be at least 0 and less than 1.");
    }
    = 0.1;

    /// <summary>
    /// The delay before an account's next run, after a run that ended with <paramref name="outcome"/>.
    /// </summary>
    /// <param name="outcome">How the run ended.</param>
    /// <param name="interval">The account's interval (its delay after a success).</param>
    /// <param name="consecutiveFailures">
    /// Failures in a row including this one (1 after the first failure); ignored on success.
    /// </param>
    /// <param name="knownLoginDelay">The account's last known CAPA <c>LOGIN-DELAY</c>, if any: a floor under every delay.</param>
    /// <param name="random">The source of jitter, or <see langword="null"/> for none (the delay before jitter).</param>
    /// <returns>The delay, never negative, never less than the server's delays.</returns>
    public TimeSpan NextDelay(FetchRunOutcome outcome, TimeSpan interval, int consecutiveFailures,
        TimeSpan? knownLoginDelay = null, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        TimeSpan floor = Max(outcome.ServerDelay ?? TimeSpan.Zero, knownLoginDelay ?? TimeSpan.Zero);
        TimeSpan delay = Max(BaseDelay(outcome, interval, Math.Max(consecutiveFailures, 1)), floor);
        return random is null ? delay : Jitter(delay, floor, random);
    }

    /// <summary>The delay before the server's minimum and jitter.</summary>
    private TimeSpan BaseDelay(FetchRunOutcome outcome, TimeSpan interval, int failures)
    {
        switch (outcome.FailureKind)
        {
            case null:
            case FetchFailure.AccountLocked:
            case FetchFailure.Canceled:
            case FetchFailure.LeaseLost:
                return interval;
            case FetchFailure.LoginDelay:
                return Max(TransientDelay(failures), outcome.ServerDelay ?? UnknownLoginDelay);
            case { } kind when FetchFailures.IsPermanent(kind):
                return Max(PermanentDelay(failures), interval);
            default:
                return TransientDelay(failures);
        }
    }

    private TimeSpan TransientDelay(int failures) =>
        Min(FailureDelays[Math.Min(failures, FailureDelays.Count) - 1], MaximumFailureDelay);

    private TimeSpan PermanentDelay(int failures)
    {
        double ticks = PermanentFailureDelay.Ticks * Math.Pow(PermanentFailureFactor, Math.Min(failures - 1, 64));
        return ticks >= MaximumPermanentFailureDelay.Ticks ? MaximumPermanentFailureDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary><paramref name="delay"/> times a uniform factor in [1 − f, 1 + f], never below <paramref name="floor"/>.</summary>
    internal TimeSpan Jitter(TimeSpan delay, TimeSpan floor, Random random)
    {
        if (JitterFraction == 0 || delay == TimeSpan.Zero)
            return delay;
        double sample;
        lock (random) // Random is not thread-safe; Random.Shared is, and locking it costs nothing of note.
            sample = random.NextDouble();
        double factor = 1 + JitterFraction * (2 * sample - 1);
        double ticks = Math.Min(delay.Ticks * factor, TimeSpan.MaxValue.Ticks);
        return Max(TimeSpan.FromTicks((long)ticks), floor);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
