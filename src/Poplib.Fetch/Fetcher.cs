using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Poplib.Fetch;

/// <summary>
/// Runs one account: settles what an interrupted run left, logs in, lists, checks the mailbox's
/// identities, plans, downloads pipelined into the destination in durable groups, DELEs what is
/// delivered and recorded (delete mode), QUITs. A crash or kill at any moment neither loses nor
/// duplicates a message (see docs/fetch.md); a message is deleted from the server only after it is
/// durably delivered and recorded.
/// </summary>
/// <example>
/// <code>
/// using var state = SqliteFetchStateStore.Open(SqliteFetchStateStore.DefaultPath);
/// var account = new FetchAccount("pop.example.com", "alice", _ => ValueTask.FromResult(secret), FetchDestination.Sink(mySink));
/// FetchResult result = await new Fetcher(account, state).RunAsync(cancellationToken);
/// </code>
/// </example>
public sealed class Fetcher
{
    private readonly FetchAccount _account;
    private readonly IFetchStateStore _state;
    private readonly IFetchObserver? _observer;
    private readonly ILogger _logger;

    /// <summary>Prepares a run of <paramref name="account"/> against <paramref name="state"/> (which the caller owns and disposes).</summary>
    /// <param name="account">The account.</param>
    /// <param name="state">The state store; one run at a time per instance.</param>
    /// <param name="observer">Told of progress and warnings as the run goes, or null.</param>
    /// <param name="logger">Where the run logs (one line per run at Information, warnings at Warning), or null.</param>
    public Fetcher(FetchAccount account, IFetchStateStore state, IFetchObserver? observer = null, ILogger<Fetcher>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(state);
        _account = account;
        _state = state;
        _observer = observer;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// What programs a run starts must not see, set by a host that runs several accounts (every
    /// account's password hidden from every account's delivery command); null: this account's own.
    /// </summary>
    internal ChildEnvironment? Hidden { get; init; }

    /// <summary>
    /// Runs the account once. Returns what it did; throws <see cref="FetchException"/> when it failed
    /// (with <see cref="FetchException.Result"/>: what it did before), including when
    /// <paramref name="cancellationToken"/> is cancelled (<see cref="FetchFailure.Canceled"/>).
    /// </summary>
    public Task<FetchResult> RunAsync(CancellationToken cancellationToken = default) =>
        new AccountFetcher(_account, _state, Hidden, _observer, _logger).RunAsync(cancellationToken);
}
