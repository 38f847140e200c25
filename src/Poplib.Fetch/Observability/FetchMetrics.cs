using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Poplib.Fetch.Scheduling;

namespace Poplib.Fetch.Observability;

/// <summary>
/// The retriever's <see cref="System.Diagnostics.Metrics"/> instruments, on a <see cref="Meter"/> named
/// <see cref="MeterName"/> (<c>Poplib.Fetch</c>): what OpenTelemetry, <c>dotnet-counters</c> or a <see cref="MeterListener"/>
/// collect from a long-running fetcher.
/// </summary>
/// <remarks>
/// <para>The instruments (tags in brackets):</para>
/// <list type="bullet">
/// <item><description><c>poplib.fetch.runs</c> — counter of finished runs {<c>poplib.account</c>, <c>poplib.fetch.outcome</c>:
/// <c>success</c> or the failure kind in snake case, e.g. <c>in_use</c>}.</description></item>
/// <item><description><c>poplib.fetch.failures</c> — counter of failed runs {<c>poplib.account</c>, <c>poplib.fetch.failure_kind</c>}.</description></item>
/// <item><description><c>poplib.fetch.messages.delivered</c> — counter of messages durably delivered {<c>poplib.account</c>}.</description></item>
/// <item><description><c>poplib.fetch.octets.delivered</c> — counter of their octets, unit <c>By</c> {<c>poplib.account</c>}.</description></item>
/// <item><description><c>poplib.fetch.run.duration</c> — histogram of run durations, unit <c>s</c> {<c>poplib.account</c>,
/// <c>poplib.fetch.outcome</c>}.</description></item>
/// <item><description><c>poplib.fetch.last_success.age</c> — observable gauge, unit <c>s</c>: per account, the seconds since its last
/// successful run ended, for accounts that have had one {<c>poplib.account</c>}. Alert on it: it is the one number that says
/// "this mailbox has not been fetched for too long", whatever the reason.</description></item>
/// </list>
/// <para><b>Cardinality.</b> Account names are tag values, so every series is multiplied by the number of accounts. That is
/// what a handful or a few hundred accounts want; a fleet of thousands may overload its metrics back end with it. Set
/// <see cref="FetchMetricsOptions.IncludeAccountTag"/> to <see langword="false"/> to drop the tag: the counters and the histogram
/// then aggregate over all accounts, and the gauge reports one value, the oldest last success (the account longest without one).</para>
/// <para>The <see cref="FetchScheduler"/> records each run when given this object (<see cref="FetchSchedulerOptions.Metrics"/>);
/// code that runs the engine without the scheduler calls <see cref="RecordRun"/> itself.</para>
/// </remarks>
public sealed class FetchMetrics : IDisposable
{
    /// <summary>The meter's name, <c>Poplib.Fetch</c>: subscribe to it (<c>AddMeter("Poplib.Fetch")</c>).</summary>
    public const string MeterName = "Poplib.Fetch";

    /// <summary>The tag that carries the account's name.</summary>
    public const string AccountTag = "poplib.account";

    /// <summary>The tag that carries a run's outcome: <c>success</c> or the failure kind.</summary>
    public const string OutcomeTag = "poplib.fetch.outcome";

    /// <summary>The tag that carries a failure's kind.</summary>
    public const string FailureKindTag = "poplib.fetch.failure_kind";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly bool _accountTag;
    private readonly TimeProvider _time;
    private readonly Counter<long> _runs;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _octets;
    private readonly Histogram<double> _duration;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastSuccess = new(StringComparer.Ordinal);

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">
    /// The host's factory (from dependency injection), which then owns the meter; or <see langword="null"/>: the meter is this
    /// object's own, disposed with it (one per instance, so that two fetchers in one process keep their gauges apart).
    /// </param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    public FetchMetrics(IMeterFactory? meterFactory = null, FetchMetricsOptions? options = null)
    {
        options ??= new FetchMetricsOptions();
        _accountTag = options.IncludeAccountTag;
        _time = options.TimeProvider;
        string? version = typeof(FetchMetrics).Assembly.GetName().Version?.ToString();
        if (meterFactory is null)
        {
            _meter = new Meter(MeterName, version);
            _ownsMeter = true;
        }
        else
        {
            _meter = meterFactory.Create(new MeterOptions(MeterName) { Version = version });
        }
        _runs = _meter.CreateCounter<long>("poplib.fetch.runs", "{run}", "Fetch runs finished, by account and outcome.");
        _failures = _meter.CreateCounter<long>("poplib.fetch.failures", "{run}", "Fetch runs failed, by account and failure kind.");
        _messages = _meter.CreateCounter<long>("poplib.fetch.messages.delivered", "{message}", "Messages durably delivered.");
        _octets = _meter.CreateCounter<long>("poplib.fetch.octets.delivered", "By", "Octets of the messages durably delivered.");
        _duration = _meter.CreateHistogram<double>("poplib.fetch.run.duration", "s", "How long a fetch run took.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] });
        _meter.CreateObservableGauge("poplib.fetch.last_success.age", ObserveLastSuccessAge, "s",
            "Seconds since each account's last successful run ended.");
    }

    /// <summary>The meter the instruments live on.</summary>
    public Meter Meter => _meter;

    /// <summary>
    /// Records one finished run: the run counter, the duration, a failure by kind, the messages and octets delivered (from
    /// <see cref="FetchRunOutcome.MessagesDelivered"/> and <see cref="FetchRunOutcome.OctetsDelivered"/>, counted for failed runs
    /// too: what a failed run delivered is delivered), and on success the account's last success time.
    /// </summary>
    /// <param name="account">The account's name.</param>
    /// <param name="outcome">How the run ended.</param>
    /// <param name="duration">How long it took.</param>
    public void RecordRun(string account, FetchRunOutcome outcome, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(outcome);
        KeyValuePair<string, object?> accountTag = new(AccountTag, account);
        string outcomeText = outcome.FailureKind is { } kind ? TagValue(kind) : "success";
        KeyValuePair<string, object?> outcomeTag = new(OutcomeTag, outcomeText);
        if (_accountTag)
        {
            _runs.Add(1, accountTag, outcomeTag);
            _duration.Record(duration.TotalSeconds, accountTag, outcomeTag);
            if (!outcome.Succeeded)
                _failures.Add(1, accountTag, new KeyValuePair<string, object?>(FailureKindTag, outcomeText));
            if (outcome.MessagesDelivered > 0)
                _messages.Add(outcome.MessagesDelivered, accountTag);
            if (outcome.OctetsDelivered > 0)
                _octets.Add(outcome.OctetsDelivered, accountTag);
        }
        else
        {
            _runs.Add(1, outcomeTag);
            _duration.Record(duration.TotalSeconds, outcomeTag);
            if (!outcome.Succeeded)
                _failures.Add(1, new KeyValuePair<string, object?>(FailureKindTag, outcomeText));
            if (outcome.MessagesDelivered > 0)
                _messages.Add(outcome.MessagesDelivered);
            if (outcome.OctetsDelivered > 0)
                _octets.Add(outcome.OctetsDelivered);
        }
        if (outcome.Succeeded)
            _lastSuccess[account] = _time.GetUtcNow();
    }

    /// <summary>Stops reporting the last-success gauge for <paramref name="account"/> (it left the configuration).</summary>
    /// <param name="account">The account's name.</param>
    public void ForgetAccount(string account)
    {
        ArgumentNullException.ThrowIfNull(account);
        _lastSuccess.TryRemove(account, out _);
    }

    /// <summary>The tag value of a failure kind: its name in snake case (<c>in_use</c>, <c>server_temporary</c>).</summary>
    /// <param name="kind">The failure kind.</param>
    public static string TagValue(FetchFailure kind) => kind switch
    {
        FetchFailure.Connection => "connection",
        FetchFailure.Timeout => "timeout",
        FetchFailure.Tls => "tls",
        FetchFailure.Authentication => "authentication",
        FetchFailure.InUse => "in_use",
        FetchFailure.LoginDelay => "login_delay",
        FetchFailure.ServerTemporary => "server_temporary",
        FetchFailure.ServerPermanent => "server_permanent",
        FetchFailure.ServerRefused => "server_refused",
        FetchFailure.Protocol => "protocol",
        FetchFailure.AccountLocked => "account_locked",
        FetchFailure.IdentityChanged => "identity_changed",
        FetchFailure.Destination => "destination",
        FetchFailure.DestinationBusy => "destination_busy",
        FetchFailure.Rejected => "rejected",
        FetchFailure.State => "state",
        FetchFailure.Configuration => "configuration",
        FetchFailure.Unexpected => "unexpected",
        FetchFailure.RunTimeExceeded => "run_time_exceeded",
        FetchFailure.Canceled => "canceled",
        FetchFailure.LeaseLost => "lease_lost",
        _ => "unknown",
    };

    private IEnumerable<Measurement<double>> ObserveLastSuccessAge()
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (_accountTag)
        {
            return [.. _lastSuccess.Select(entry => new Measurement<double>((now - entry.Value).TotalSeconds,
                new KeyValuePair<string, object?>(AccountTag, entry.Key)))];
        }
        return _lastSuccess.IsEmpty ? [] : [new Measurement<double>((now - _lastSuccess.Values.Min()).TotalSeconds)];
    }

    /// <summary>Disposes the meter if this object created it (not when it came from an <see cref="IMeterFactory"/>).</summary>
    public void Dispose()
    {
        if (_ownsMeter)
            _meter.Dispose();
    }
}
