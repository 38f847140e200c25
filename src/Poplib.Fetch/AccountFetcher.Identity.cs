
namespace Poplib.Fetch;

/// <summary>
/// The checks that keep an account's keys honest before anything is planned: a UIDL reset, the
/// same mailbox under another name, keys whose rows may not describe the message listed now.
/// </summary>
internal sealed partial class AccountFetcher
{
    /// <summary>
    /// Whether the messages' keys can be trusted against the state. Two dangers: the server's UIDLs
    /// changed since the last run (every message the last run left on the server is gone and unknown
    /// keys appeared), or this mailbox was fetched before under another key (another spelling of the
    /// host, another port). Either way, a few headers (TOP) tell: if "new" messages carry the
    /// Message-ID of mail already delivered, fetching them would duplicate it. Returns whether to
    /// dedupe this run (by Message-ID), or throws to refuse, as the policy says.
    /// </summary>
    private async Task<bool> CheckIdentityAsync(Pop3Client client, IReadOnlyList<ServerMessage> messages, Dictionary<MessageKey, StoredMessage> known, CancellationToken cancellationToken)
    {
        // Runs every run over the whole listing: the set and the list are built only when the answer needs them.
        List<StoredMessage> leftOnServer = [.. known.Values.Where(r => r.OnServer && r.Status is MessageStatus.Delivered or MessageStatus.Truncated or MessageStatus.Seen)];
        bool firstRun = known.Count == 0;
        bool keysVanished = leftOnServer.Count > 0 && NoneListed(leftOnServer, messages);
        string user = account.User;
        if (!messages.Any(m => !known.ContainsKey(m.Key)) || !(keysVanished || (firstRun && state.HasOtherKeys(_key))))
            return false;
        List<ServerMessage> unknown = [.. messages.Where(m => !known.ContainsKey(m.Key))];
        List<Pop3ListEntry> sample = [.. unknown.Take(8).Select(m => m.Entry)];
        Dictionary<int, string?> ids;
        try
        {
            ids = await MailboxListing.MessageIdsAsync(client, sample, cancellationToken).ConfigureAwait(false);
        }
        catch (Pop3CommandException refused)
        {
            string unchecked_ = firstRun
                ? $"the state knows other mailboxes of {user}, and the server refused TOP ({refused.ResponseText}), so poplib cannot check whether this one was fetched before under another name"
                : $"none of the {leftOnServer.Count} message(s) the last run left on the server is listed any more, and {unknown.Count} message(s) with unknown UIDLs appeared; " +
                  $"the server refused TOP ({refused.ResponseText}), so poplib cannot check whether these are mail already delivered under new UIDLs";
            return Decide(unchecked_, firstRun ? UidlResetAction.Refetch : account.Policy.OnUidlReset, canHintRefetch: true);
        }

        string? otherKey = null;
        int withId = sample.Count(e => ids[e.Number] is not null);
        int matches = sample.Count(e => ids[e.Number] is { } id && (firstRun
            ? state.DeliveredUnderAnotherKey(_key, id) is { } other && (otherKey = other) is not null
            : state.HasDelivered(_key, id)));
        // After a reset one match is proof enough; the first run of a mailbox must look like another
        // key's mailbox in most of its sample, since a message sent to two addresses is common.
        bool seenBefore = firstRun ? withId > 0 && matches * 2 > withId : matches > 0;
        if (!seenBefore)
            return false;

        string what = firstRun
            ? $"this mailbox was fetched before under another name ({otherKey}): {matches} of {withId} messages sampled carry the Message-IDs of mail already delivered from there"
            : $"the server's UIDLs have changed: none of the {leftOnServer.Count} message(s) left on the server by the last run is listed any more, and {unknown.Count} message(s) with unknown UIDLs include mail already delivered";
        return Decide(what, account.Policy.OnUidlReset, canHintRefetch: false);
    }

    /// <summary>Acts on a suspected identity change as the policy says: refuse (throw), refetch, mark seen, or dedupe.</summary>
    private bool Decide(string what, UidlResetAction action, bool canHintRefetch)
    {
        switch (action)
        {
            case UidlResetAction.Refuse:
                throw new FetchException(FetchFailure.IdentityChanged, what + ". Nothing was fetched") { Finding = what, MarkSeenPossible = !canHintRefetch };
            case UidlResetAction.Refetch:
                Warn(IdentityWarning(what, action, "; fetching all of them (UidlResetAction.Refetch, or a first run)"));
                return false;
            case UidlResetAction.MarkSeen:
                Warn(IdentityWarning(what, action, "; recording all of them as seen without fetching (UidlResetAction.MarkSeen)"));
                return true;
            default:
                Warn(IdentityWarning(what, action, "; fetching them, skipping those whose Message-ID was delivered before (UidlResetAction.Dedupe)"));
                return true;
        }
    }

    private static FetchWarning IdentityWarning(string what, UidlResetAction action, string done) =>
        new(FetchWarningKind.IdentityChanged, what + done) { Action = action, Finding = what };

    /// <summary>
    /// Known keys whose row may not describe the message now listed under them: a key recorded as
    /// deleted that the server lists again (a server that ignored DELE, or one that reused the UIDL),
    /// a key listed with another size than recorded (a server that now counts differently, or a
    /// reused UIDL), and — in delete mode — a key an earlier run delivered, which this run would DELE
    /// on the strength of its row alone (its message may have gone since and the UIDL been reused).
    /// The Message-ID (TOP n 0) decides where it can: the same one means the same message (a changed
    /// size is recorded); another one means a new message, fetched. A fingerprint key is made of the
    /// header's identity and the size, so the same size proves it. Where nothing can be compared (no
    /// TOP, no Message-ID), another size is taken as a new message, fetched rather than lost, and the
    /// same size must prove itself by its content: such keys are returned, to be downloaded again and
    /// compared with the digest recorded at delivery — a message is never DELE'd unread on trust.
    /// </summary>
    private async Task<Dictionary<MessageKey, StoredMessage>> VerifyChangedKeysAsync(Pop3Client client, IReadOnlyList<ServerMessage> messages, Dictionary<MessageKey, StoredMessage> known,
        CancellationToken cancellationToken)
    {
        bool deleting = account.Policy.Delete;
        List<ServerMessage> doubtful = [.. messages.Where(m => known.TryGetValue(m.Key, out StoredMessage? row)
            && (row.Status == MessageStatus.Deleted || row.Size != m.Size || (deleting && row.Status == MessageStatus.Delivered)))];
        var unproven = new Dictionary<MessageKey, StoredMessage>();
        if (doubtful.Count == 0)
            return unproven;
        List<ServerMessage> checkable = [.. doubtful.Where(m => !m.Key.HasFingerprint && known[m.Key].MessageId is not null)];
        Dictionary<int, string?> ids = [];
        if (checkable.Count > 0)
        {
            try
            {
                ids = await MailboxListing.MessageIdsAsync(client, [.. checkable.Select(m => m.Entry)], cancellationToken).ConfigureAwait(false);
            }
            catch (Pop3CommandException)
            {
                // No TOP: nothing can be compared; the rules for the unverifiable apply.
            }
        }

        var resized = new List<StoredMessage>();
        foreach (ServerMessage message in doubtful)
        {
            StoredMessage row = known[message.Key];
            bool compared = ids.TryGetValue(message.Number, out string? id) && id is not null;
            if (compared && id == row.MessageId)
            {
                if (row.Size != message.Size)
                    resized.Add(known[message.Key] = row with { Size = message.Size, OnServer = true });
                continue;
            }

            if (!compared && row.Size == message.Size)
            {
                if (!message.Key.HasFingerprint)
                    unproven[message.Key] = row;
                continue;
            }

            Warn(compared
                ? $"message {message.Number} has the key {message.Key} of another message (Message-ID {row.MessageId}); it is fetched as new"
                : $"message {message.Number} has the key {message.Key} but {message.Size} octets instead of {row.Size}, and its Message-ID cannot be compared; it is fetched as new");
            known.Remove(message.Key);
        }

        state.Save(_key, resized);
        return unproven;
    }

    /// <summary>Where a message with this Message-ID was delivered before, if anywhere.</summary>
    private DeliveredWhere DeliveredBefore(string messageId) =>
        state.HasDelivered(_key, messageId) ? DeliveredWhere.ThisMailbox
        : state.DeliveredUnderAnotherKey(_key, messageId) is not null ? DeliveredWhere.AnotherKey
        : DeliveredWhere.Nowhere;

    private enum DeliveredWhere
    {
        Nowhere,
        ThisMailbox,
        AnotherKey,
    }

    /// <summary>Whether none of <paramref name="rows"/> is in the server's listing.</summary>
    private static bool NoneListed(List<StoredMessage> rows, IReadOnlyList<ServerMessage> messages)
    {
        var present = new HashSet<MessageKey>(messages.Count);
        foreach (ServerMessage message in messages)
            present.Add(message.Key);
        return !rows.Exists(r => present.Contains(r.Key));
    }
}
