using System.Security.Cryptography;
using System.Text;

namespace Poplib.Fetch.Identity;

/// <summary>A message of this session: its number and size (LIST) and the key the state knows it by.</summary>
internal readonly record struct ServerMessage(Pop3ListEntry Entry, MessageKey Key)
{
    public int Number => Entry.Number;

    public long Size => Entry.Size;
}

/// <summary>
/// Lists the mailbox and gives every message a stable key: its UIDL, or — when the server has no
/// UIDL, or gives one UIDL to several messages — a fingerprint of its Message-ID (or whole header)
/// and size, read with TOP n 0.
/// </summary>
internal static class MailboxListing
{
    private const int MaxHeaderBytes = 256 * 1024;

    public static async Task<IReadOnlyList<ServerMessage>> ReadAsync(Pop3Client client, IReadOnlyDictionary<MessageKey, StoredMessage> known, Action<string> warn,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<Pop3ListEntry> listing = await client.ListAsync(cancellationToken).ConfigureAwait(false);
        if (listing.Count == 0)
            return [];

        IReadOnlyList<Pop3UidlEntry> uidls;
        try
        {
            uidls = await client.UidlAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Pop3CommandException refused)
        {
            ThrowUnlessUidlIsMissing(client, refused, known);
            warn($"the server has no UIDL ({refused.ResponseText}): messages are identified by Message-ID and size instead (read with TOP)");
            Dictionary<int, (string Print, string? MessageId)> prints = await FingerprintsAsync(client, listing, cancellationToken).ConfigureAwait(false);
            return [.. listing.Select(e => new ServerMessage(e, MessageKey.FromFingerprint(prints[e.Number].Print)))];
        }

        var byNumber = uidls.ToDictionary(u => u.Number, u => u.Uid);
        if (listing.Any(e => !byNumber.ContainsKey(e.Number)))
            throw new FetchException(FetchFailure.Protocol, "the server's UIDL listing does not cover every message of its LIST listing");

        // RFC 1939 requires UIDLs to be unique in a maildrop; some servers break that. Those
        // messages cannot be told apart by UIDL, so they get a fingerprint as well.
        // Counted with two sets rather than grouped: grouping makes an object for every message of
        // the mailbox, and duplicates are the rare case.
        var seen = new HashSet<string>(listing.Count, StringComparer.Ordinal);
        var repeated = new HashSet<string>(StringComparer.Ordinal);
        foreach (Pop3ListEntry entry in listing)
        {
            if (!seen.Add(byNumber[entry.Number]))
                repeated.Add(byNumber[entry.Number]);
        }

        List<Pop3ListEntry> duplicated = repeated.Count == 0 ? [] : [.. listing.Where(e => repeated.Contains(byNumber[e.Number]))];
        var keys = listing.ToDictionary(e => e.Number, e => MessageKey.FromUidl(byNumber[e.Number]));
        if (duplicated.Count > 0)
        {
            warn($"the server gives the same UIDL to {duplicated.Count} messages: those are told apart by Message-ID and size (read with TOP)");
            Dictionary<int, (string Print, string? MessageId)> prints = await FingerprintsAsync(client, duplicated, cancellationToken).ConfigureAwait(false);
            foreach (IGrouping<string, Pop3ListEntry> group in duplicated.GroupBy(e => byNumber[e.Number], StringComparer.Ordinal))
            {
                // If the UIDL was unique before and its message was recorded under the bare UIDL, the
                // member that is that message keeps the bare key: it must not look new now.
                Pop3ListEntry? owner = known.TryGetValue(MessageKey.FromUidl(group.Key), out StoredMessage? row) && row.MessageId is { } id
                    ? group.FirstOrDefault(e => prints[e.Number].MessageId == id && e.Size == row.Size) is { Number: > 0 } match ? match : null
                    : null;
                foreach (Pop3ListEntry entry in group)
                    keys[entry.Number] = entry.Number == owner?.Number ? MessageKey.FromUidl(group.Key) : MessageKey.FromUidlAndFingerprint(group.Key, prints[entry.Number].Print);
            }
        }

        var messages = new List<ServerMessage>(listing.Count);
        foreach (Pop3ListEntry entry in listing)
            messages.Add(new ServerMessage(entry, keys[entry.Number]));
        return messages;
    }

    /// <summary>
    /// A <c>-ERR</c> to UIDL means "no UIDL" only from a server that does not claim it and has never
    /// given one for this account: anything else (a temporary failure) must not switch identities,
    /// which would make every message look new or every new message look old.
    /// </summary>
    private static void ThrowUnlessUidlIsMissing(Pop3Client client, Pop3CommandException refused, IReadOnlyDictionary<MessageKey, StoredMessage> known)
    {
        if (refused.ResponseCode is Pop3ResponseCode.SysTemp or Pop3ResponseCode.InUse or Pop3ResponseCode.LoginDelay)
            throw new FetchException(FetchException.Classify(refused), $"the server refused UIDL for now: {refused.ResponseText}; try again later", refused);
        if (client.Capabilities.IsSupported && client.Capabilities.Uidl)
            throw new FetchException(FetchFailure.ServerRefused, $"the server advertises UIDL but refused it: {refused.ResponseText}; nothing was fetched", refused);
        if (known.Keys.Any(k => k.HasUidl))
        {
            throw new FetchException(FetchFailure.ServerRefused,
                $"the server refused UIDL ({refused.ResponseText}), though earlier runs identified this mailbox's messages by UIDL; nothing was fetched (switching to Message-ID fingerprints now would fetch everything again)", refused);
        }
    }

    /// <summary>The Message-ID of each given message (null when it has none), read with TOP n 0.</summary>
    public static async Task<Dictionary<int, string?>> MessageIdsAsync(Pop3Client client, IReadOnlyList<Pop3ListEntry> messages, CancellationToken cancellationToken)
    {
        var ids = new Dictionary<int, string?>();
        await foreach ((int number, byte[] header, _) in HeadersAsync(client, messages, cancellationToken).ConfigureAwait(false))
            ids[number] = MessageHeaders.FindMessageId(header);

        return ids;
    }

    private static async Task<Dictionary<int, (string Print, string? MessageId)>> FingerprintsAsync(Pop3Client client, IReadOnlyList<Pop3ListEntry> messages, CancellationToken cancellationToken)
    {
        var sizes = messages.ToDictionary(m => m.Number, m => m.Size);
        var prints = new Dictionary<int, (string, string?)>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            await foreach ((int number, byte[] header, string headerDigest) in HeadersAsync(client, messages, cancellationToken).ConfigureAwait(false))
            {
                string? messageId = MessageHeaders.FindMessageId(header);
                string identity = messageId is { } id ? "id:" + id : "hdr:" + headerDigest;
                string print = "fp:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..24] + ":" + sizes[number];
                // Identical copies of one message: number them in mailbox order.
                int copies = seen[print] = seen.GetValueOrDefault(print) + 1;
                prints[number] = (copies == 1 ? print : print + "#" + copies, messageId);
            }
        }
        catch (Pop3CommandException refused)
        {
            throw new FetchException(FetchFailure.ServerRefused,
                $"the server refused TOP ({refused.ResponseText}) as well as UIDL: poplib cannot tell new mail from mail already fetched on this server", refused);
        }

        return prints;
    }

    /// <summary>TOP n 0 for each message, pipelined: its header's first bytes and a digest of all of it. A -ERR throws.</summary>
    private static async IAsyncEnumerable<(int Number, byte[] Header, string Digest)> HeadersAsync(Pop3Client client, IReadOnlyList<Pop3ListEntry> messages,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (Pop3BatchMessage head in client.TopManyAsync(messages.Select(m => m.Number), 0, cancellationToken).ConfigureAwait(false))
        {
            if (!head.IsOk)
                throw head.Error;
            (byte[] header, string digest) = await ReadHeaderAsync(head.Content, cancellationToken).ConfigureAwait(false);
            yield return (head.Number, header, digest);
        }
    }

    /// <summary>Reads a TOP n 0 reply: its first bytes for the header fields, and a digest of all of it.</summary>
    private static async Task<(byte[] Header, string Digest)> ReadHeaderAsync(Stream content, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var kept = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            if (kept.Length < MaxHeaderBytes)
                kept.Write(buffer, 0, (int)Math.Min(read, MaxHeaderBytes - kept.Length));
        }

        return (kept.ToArray(), Convert.ToHexStringLower(hash.GetHashAndReset()));
    }
}
