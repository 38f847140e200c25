using Poplib.Cli.Fetch.State;

namespace Poplib.Cli.Fetch;

/// <summary>What a run does with each message on the server, decided from the state and the policy alone.</summary>
/// <param name="Full">New messages to download whole, in mailbox order.</param>
/// <param name="HeadersOnly">New messages over --max-size whose header is delivered (--oversize headers).</param>
/// <param name="Oversized">New messages over --max-size left alone (--oversize skip).</param>
/// <param name="AlreadyDelivered">Messages delivered by earlier runs and still on the server: what delete mode DELEs.</param>
internal sealed record FetchPlan(IReadOnlyList<ServerMessage> Full, IReadOnlyList<ServerMessage> HeadersOnly, IReadOnlyList<ServerMessage> Oversized, IReadOnlyList<ServerMessage> AlreadyDelivered)
{
    public static FetchPlan Make(IReadOnlyList<ServerMessage> messages, IReadOnlyDictionary<string, StoredMessage> known, FetchPolicy policy)
    {
        List<ServerMessage> full = [], headers = [], oversized = [], delivered = [];
        int budget = policy.Limit ?? int.MaxValue;
        foreach (ServerMessage message in messages)
        {
            if (known.TryGetValue(message.Key, out StoredMessage? row))
            {
                // Only whole, recorded deliveries may be deleted; headers-only and marked-seen never.
                if (row.Status is MessageStatus.Delivered or MessageStatus.Deleted)
                    delivered.Add(message);
                continue;
            }

            bool tooBig = policy.MaxSize is { } max && message.Size > max;
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
