namespace Poplib.Fetch;

/// <summary>What to do with a message over <see cref="FetchPolicy.MaxSize"/>.</summary>
public enum OversizeAction
{
    /// <summary>Leave it on the server, untouched, and say so in the result.</summary>
    Skip,

    /// <summary>Deliver its header only (TOP n 0), marked with <c>X-Poplib-Truncated</c>; never delete it.</summary>
    Headers,
}

/// <summary>What to do when the server's UIDLs have changed under us (a migration, a rebuilt index).</summary>
public enum UidlResetAction
{
    /// <summary>Fetch nothing, fail the run with <see cref="FetchFailure.IdentityChanged"/>: a person decides.</summary>
    Refuse,

    /// <summary>Fetch, but skip messages whose Message-ID was delivered before.</summary>
    Dedupe,

    /// <summary>Record everything now on the server as seen, without downloading it.</summary>
    MarkSeen,

    /// <summary>Fetch everything the state does not know, duplicates and all.</summary>
    Refetch,
}

/// <summary>
/// How an account is fetched. The one set of defaults: <c>new FetchPolicy()</c> is what
/// <c>poplib fetch</c> does without options (keep mail on the server, no size limit, refuse a UIDL
/// reset, groups of 64, 30 minutes at most, a sink may take 5 minutes per message).
/// </summary>
/// <remarks><see cref="MaxSize"/> is enforced on the octets the server actually sends, not only on what LIST says.</remarks>
public sealed record FetchPolicy
{
    /// <summary>The default <see cref="BatchSize"/>.</summary>
    public const int DefaultBatchSize = 64;

    /// <summary>
    /// The default <see cref="MaxRunTime"/>: long enough for a first fetch of a big mailbox to make
    /// real progress (what arrives whole is kept, and the next run goes on), short enough that a
    /// server dribbling bytes cannot hold a job, and its account lock, for hours.
    /// </summary>
    public static readonly TimeSpan DefaultMaxRunTime = TimeSpan.FromMinutes(30);

    /// <summary>The default <see cref="SinkTimeout"/>.</summary>
    public static readonly TimeSpan DefaultSinkTimeout = TimeSpan.FromMinutes(5);

    /// <summary>DELE what was delivered (after it is durable and recorded); otherwise keep it on the server (the default).</summary>
    public bool Delete { get; init; }

    /// <summary>Messages larger than this many octets get <see cref="Oversize"/>; null (the default): no limit.</summary>
    public long? MaxSize { get; init; }

    /// <summary>What happens to messages over <see cref="MaxSize"/>; default <see cref="OversizeAction.Skip"/>.</summary>
    public OversizeAction Oversize { get; init; } = OversizeAction.Skip;

    /// <summary>At most this many messages per run; null (the default): all.</summary>
    public int? Limit { get; init; }

    /// <summary>What to do when the UIDLs changed; default <see cref="UidlResetAction.Refuse"/>.</summary>
    public UidlResetAction OnUidlReset { get; init; } = UidlResetAction.Refuse;

    /// <summary>Messages per durable commit group (one file-system sync and two state commits each); default 64.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>How long one account's run may take in all; then it stops with <see cref="FetchFailure.RunTimeExceeded"/>. Default 30 minutes.</summary>
    public TimeSpan MaxRunTime { get; init; } = DefaultMaxRunTime;

    /// <summary>
    /// How long an application sink (<see cref="IMessageSink"/>) may take to accept one message; then
    /// the run stops with <see cref="FetchFailure.Destination"/>, the message stays on the server and
    /// is not recorded. Default 5 minutes.
    /// </summary>
    public TimeSpan SinkTimeout { get; init; } = DefaultSinkTimeout;
}
