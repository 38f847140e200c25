namespace Poplib.Fetch.Scheduling;

/// <summary>
/// What one fetch run of one account ended with, as the scheduler sees it: success or a failure of some
/// <see cref="FetchFailure"/>, the delay the server asked for, and what was delivered. Immutable; make one with
/// <see cref="Success"/> or <see cref="Failure"/>, and add counts with <c>with { MessagesDelivered = …, OctetsDelivered = … }</c>.
/// </summary>
public sealed record FetchRunOutcome
{
    private FetchRunOutcome(FetchFailure? failureKind, string? error, TimeSpan? serverDelay)
    {
        if (serverDelay < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(serverDelay), serverDelay, "A server delay cannot be negative.");
        FailureKind = failureKind;
        Error = error;
        ServerDelay = serverDelay;
    }

    /// <summary>A successful run.</summary>
    /// <param name="loginDelay">
    /// The server's <c>LOGIN-DELAY</c> from CAPA (<see cref="Pop3Capabilities.LoginDelay"/>, preferably as re-read after
    /// login, RFC 2449 section 6.5), or <see langword="null"/> if none was announced. The next run never comes sooner.
    /// </param>
    public static FetchRunOutcome Success(TimeSpan? loginDelay = null) => new(null, null, loginDelay);

    /// <summary>A failed run.</summary>
    /// <param name="kind">Why it failed.</param>
    /// <param name="error">A one-line description for the status and the log (the server's text, the exception's message).</param>
    /// <param name="minimumDelay">
    /// The least the server asked the client to wait, if it said (for <see cref="FetchFailure.LoginDelay"/>, the CAPA
    /// <c>LOGIN-DELAY</c> value), or <see langword="null"/>. The next run never comes sooner.
    /// </param>
    public static FetchRunOutcome Failure(FetchFailure kind, string? error = null, TimeSpan? minimumDelay = null) =>
        new(kind, error, minimumDelay);

    /// <summary>Whether the run succeeded.</summary>
    public bool Succeeded => FailureKind is null;

    /// <summary>Why the run failed, or <see langword="null"/> if it succeeded.</summary>
    public FetchFailure? FailureKind { get; }

    /// <summary>A one-line description of the failure, or <see langword="null"/>.</summary>
    public string? Error { get; }

    /// <summary>
    /// The least time the server asked to pass before the next login: CAPA <c>LOGIN-DELAY</c> on success, the given minimum
    /// on failure; <see langword="null"/> if the server said nothing.
    /// </summary>
    public TimeSpan? ServerDelay { get; }

    /// <summary>Messages durably delivered by this run (a failed run may have delivered some before it failed).</summary>
    public int MessagesDelivered
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Cannot be negative.");
    }

    /// <summary>Octets (message bytes as retrieved) durably delivered by this run.</summary>
    public long OctetsDelivered
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Cannot be negative.");
    }

    /// <summary>"success", or the failure kind and the error text, for logs and status lines.</summary>
    public override string ToString() =>
        FailureKind is { } kind ? (Error is null ? kind.ToString() : $"{kind}: {Error}") : "success";
}
