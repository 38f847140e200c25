namespace Poplib.Fetch.State;

/// <summary>Where a message stands in an account's history.</summary>
public enum MessageStatus
{
    /// <summary>Being written to the destination: the first half of a two-phase delivery. Settled at the next run.</summary>
    Delivering,

    /// <summary>As <see cref="Delivering"/>, for a headers-only copy (becomes <see cref="Truncated"/>).</summary>
    DeliveringHeaders,

    /// <summary>Durably in the destination; still on the server (keep mode, or DELE not yet committed).</summary>
    Delivered,

    /// <summary>Only its header was delivered (over the maximum size, <see cref="OversizeAction.Headers"/>); never deleted from the server.</summary>
    Truncated,

    /// <summary>Delivered, and the server committed its DELE.</summary>
    Deleted,

    /// <summary>Recorded as seen without being fetched (<see cref="UidlResetAction.MarkSeen"/>, a duplicate); never deleted from the server.</summary>
    Seen,
}

/// <summary>One row of the state: a message of one account, by its key (UIDL or fingerprint).</summary>
/// <param name="Key">The message's key.</param>
/// <param name="Status">Where it stands.</param>
/// <param name="Size">Its size as LIST gave it.</param>
/// <param name="MessageId">Its Message-ID, when it has one.</param>
/// <param name="Digest">The digest of the bytes delivered (SHA-256, hex), to compare a later copy with.</param>
/// <param name="Destination">The <see cref="Delivery.IMailDestination.Name"/> it was delivered to, or a note such as <c>(marked seen)</c>.</param>
/// <param name="Location">Where in the destination (a Maildir file name, an mbox offset and length), when the destination says.</param>
/// <param name="OnServer">Whether the last session listed it.</param>
public sealed record StoredMessage(MessageKey Key, MessageStatus Status, long Size, string? MessageId, string? Digest, string Destination, string? Location, bool OnServer);

/// <summary>
/// Where the engine keeps what it knows about each mailbox: which messages were delivered, where, and
/// which were deleted. The delivery protocol depends on one property: when a write method returns, the
/// change is durable (a crash right after cannot undo it). Implementations need not be thread-safe:
/// the engine uses one instance for one run at a time. <see cref="SqliteFetchStateStore"/> is the
/// default; another store (PostgreSQL, say) implements this interface in its own package.
/// </summary>
public interface IFetchStateStore : IDisposable
{
    /// <summary>
    /// Takes the account's lock for one run, or throws <see cref="FetchException"/> with
    /// <see cref="FetchFailure.AccountLocked"/> when another run holds it. Disposing releases it; a
    /// crashed process must not hold it for ever (a file lock, an advisory lock of a session).
    /// </summary>
    IDisposable LockAccount(AccountKey account);

    /// <summary>Every row of <paramref name="account"/>, by key.</summary>
    Dictionary<MessageKey, StoredMessage> Load(AccountKey account);

    /// <summary>Writes (inserts or replaces) <paramref name="rows"/>, durably and all or nothing.</summary>
    void Save(AccountKey account, IReadOnlyCollection<StoredMessage> rows);

    /// <summary>Removes rows (an abandoned first phase), durably and all or nothing.</summary>
    void Forget(AccountKey account, IEnumerable<MessageKey> keys);

    /// <summary>Records which of the account's known messages the server listed in this session (the others: not on the server).</summary>
    void MarkOnServer(AccountKey account, IReadOnlySet<MessageKey> present);

    /// <summary>
    /// Sets <paramref name="status"/> on existing rows, durably and all or nothing (<see cref="MessageStatus.Deleted"/> also clears "on server").
    /// The engine calls it for the second phase of every delivered group (<see cref="MessageStatus.Delivering"/> rows becoming
    /// <see cref="MessageStatus.Delivered"/>, or <see cref="MessageStatus.Truncated"/>) and after a committed DELE; keys without a row are skipped.
    /// </summary>
    void SetStatus(AccountKey account, IEnumerable<MessageKey> keys, MessageStatus status);

    /// <summary>Whether a message with this Message-ID was delivered whole (<see cref="MessageStatus.Delivered"/> or <see cref="MessageStatus.Deleted"/>) for the account, whatever its size.</summary>
    bool HasDelivered(AccountKey account, string messageId);

    /// <summary>Whether the store knows any other mailbox of the same user (on any host or port).</summary>
    bool HasOtherKeys(AccountKey account);

    /// <summary>Another mailbox of the same user (its stored key) under which a message with this Message-ID was delivered whole, or null.</summary>
    string? DeliveredUnderAnotherKey(AccountKey account, string messageId);

    /// <summary>
    /// Records an account's schedule (replacing its earlier row), for a status reader in another process. A daemon calls it
    /// after each run. The default does nothing: a store without an account-status table still runs the engine and the
    /// daemon, only <c>--status</c> has nothing to show.
    /// </summary>
    /// <param name="status">The account's status.</param>
    void SaveAccountStatus(StoredAccountStatus status)
    {
    }

    /// <summary>Every recorded account status, by name. The default: none.</summary>
    IReadOnlyList<StoredAccountStatus> LoadAccountStatuses() => [];
}
