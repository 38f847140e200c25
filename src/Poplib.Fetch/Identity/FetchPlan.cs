namespace Poplib.Fetch.Identity;

/// <summary>What a run does with each message on the server, decided from the state and the policy alone.</summary>
/// <param name="Full">
/// Messages to download whole, in mailbox order: new ones, headers-only copies now within the size limit,
/// and keys delivered before that must prove by their content that they are still that message.
/// </param>
/// <param name="HeadersOnly">New messages over the size limit whose header is delivered (OversizeAction.Headers).</param>
/// <param name="Oversized">New messages over the size limit left alone (OversizeAction.Skip).</param>
/// <param name="AlreadyDelivered">Messages delivered whole by earlier runs, proven the same, and still on the server: what delete mode DELEs.</param>
internal sealed record FetchPlan(IReadOnlyList<ServerMessage> Full, IReadOnlyList<ServerMessage> HeadersOnly, IReadOnlyList<ServerMessage> Oversized, IReadOnlyList<ServerMessage> AlreadyDelivered)
{
    /// <param name="messages">What the server lists.</param>
    /// <param name="known">The state's rows for the account.</param>
    /// <param name="policy">The account's policy.</param>
    /// <param name="unproven">Keys delivered before whose identity is in doubt: downloaded again to compare, never DELE'd on trust.</param>
    public static FetchPlan Make(IReadOnlyList<ServerMessage> messages, IReadOnlyDictionary<MessageKey, StoredMessage> known, FetchPolicy policy, IReadOnlySet<MessageKey> unproven)
    {
        int budget = policy.Limit ?? int.MaxValue;
        // Sized for the messages the state does not know (what a run usually fetches): no regrowth on a large first run.
        List<ServerMessage> full = new(Math.Clamp(messages.Count - known.Count, 0, budget)), headers = [], oversized = [], delivered = [];
        foreach (ServerMessage message in messages)
        {
            bool tooBig = policy.MaxSize is { } max && message.Size > max;
            // A row only speaks for a message of the size it recorded: the same key on a message of
            // another size is another message (a server reusing UIDLs), and is new.
            if (known.TryGetValue(message.Key, out StoredMessage? row) && row.Size == message.Size)
            {
                switch (row.Status)
                {
                    case MessageStatus.Delivered or MessageStatus.Deleted when unproven.Contains(message.Key):
                        if (budget > 0)
                        {
                            budget--;
                            full.Add(message);
                        }

                        continue;
                    case MessageStatus.Delivered or MessageStatus.Deleted:
                        // Only whole, recorded deliveries may be deleted; headers-only and marked-seen never.
                        delivered.Add(message);
                        continue;
                    case MessageStatus.Truncated when !tooBig && budget > 0:
                        // Headers only before, within the size limit now: fetch it whole.
                        budget--;
                        full.Add(message);
                        continue;
                    default:
                        continue;
                }
            }

            if (tooBig && policy.Oversize == OversizeAction.Skip)
            {
                oversized.Add(message);
                continue;
            }

            if (budget == 0)
                continue;
            budget--;
            (tooBig ? headers : full).Add(message);
        }

        return new FetchPlan(full, headers, oversized, delivered);
    }
}
