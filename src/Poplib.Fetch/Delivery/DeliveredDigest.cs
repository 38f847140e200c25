using System.Text;

namespace Poplib.Fetch.Delivery;

/// <summary>
/// Recomputes, for a message downloaded again, the digest its row recorded at delivery — the one
/// proof of identity left when a UIDL may have been reused and the header carries no Message-ID.
/// The recorded digest is of the delivered form, which depends on the destination (an mbox adds its
/// dated separator line, From-quoting and a blank line), so the same writer runs again into nothing.
/// </summary>
internal sealed class DeliveredDigest : IDisposable
{
    private readonly StoredMessage _row;
    private readonly bool _mbox;

    private DeliveredDigest(StoredMessage row, bool mbox, MessageWriter writer)
    {
        _row = row;
        _mbox = mbox;
        Writer = writer;
    }

    /// <summary>Where the message goes as it is received (raw, as from the server).</summary>
    public MessageWriter Writer { get; }

    /// <summary>A witness for <paramref name="row"/>, or null when its form cannot be reproduced (no digest, or an mbox row without a separator stamp).</summary>
    public static DeliveredDigest? For(StoredMessage row)
    {
        if (row.Digest is null)
            return null;
        if (!row.Destination.StartsWith("mbox:", StringComparison.Ordinal))
            return new DeliveredDigest(row, mbox: false, new MessageWriter(Stream.Null, quoteFrom: false));
        long stamp = MboxDestination.ParseLocation(row.Location).Stamp;
        if (stamp < 0)
            return null;
        var writer = new MessageWriter(Stream.Null, quoteFrom: true);
        writer.WriteVerbatim(Encoding.ASCII.GetBytes(MboxDestination.FromLine(stamp)));
        return new DeliveredDigest(row, mbox: true, writer);
    }

    /// <summary>Whether what was written is exactly the message the row recorded.</summary>
    public bool Matches() => Writer.Complete(terminate: _mbox).Digest == _row.Digest;

    public void Dispose() => Writer.Dispose();
}
