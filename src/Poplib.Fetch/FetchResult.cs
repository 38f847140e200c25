namespace Poplib.Fetch;

/// <summary>What one account's run did. Immutable; also the partial result of a failed run (<see cref="FetchException.Result"/>).</summary>
public sealed record FetchResult
{
    /// <summary>The account's <see cref="FetchAccount.Name"/>.</summary>
    public required string Account { get; init; }

    /// <summary>The account's key in the state.</summary>
    public required AccountKey Key { get; init; }

    /// <summary>Messages on the server at login.</summary>
    public int OnServer { get; init; }

    /// <summary>Their octets (LIST).</summary>
    public long OnServerOctets { get; init; }

    /// <summary>Messages this run set out to download.</summary>
    public int ToFetch { get; init; }

    /// <summary>Their octets (LIST).</summary>
    public long ToFetchOctets { get; init; }

    /// <summary>Messages delivered whole (durable and recorded) in this run.</summary>
    public int Delivered { get; init; }

    /// <summary>Their octets as LIST gave them.</summary>
    public long DeliveredOctets { get; init; }

    /// <summary>Messages delivered as their header only (<see cref="OversizeAction.Headers"/>).</summary>
    public int HeadersOnly { get; init; }

    /// <summary>Messages deleted from the server (the server committed their DELE at QUIT).</summary>
    public int Deleted { get; init; }

    /// <summary>Messages left on the server because they are over <see cref="FetchPolicy.MaxSize"/>.</summary>
    public int SkippedOversize { get; init; }

    /// <summary>Messages not delivered because they are copies of mail delivered before.</summary>
    public int Duplicates { get; init; }

    /// <summary>Messages the server refused to send (a <c>-ERR</c> to RETR or TOP); they stay on the server.</summary>
    public int Refused { get; init; }

    /// <summary>Messages the destination did not accept (a delivery command's non-zero exit, a sink that threw); they stay on the server.</summary>
    public int Rejected { get; init; }

    /// <summary>How long the run took.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>The minimum time between logins the server announced (CAPA <c>LOGIN-DELAY n</c>, RFC 2449), or null.</summary>
    public TimeSpan? LoginDelay { get; init; }

    /// <summary>What the run could not do but went on without, in order.</summary>
    public IReadOnlyList<FetchWarning> Warnings { get; init; } = [];
}
