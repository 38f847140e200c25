using Poplib.Testing.Protocol;

namespace Poplib.Testing;

/// <summary>
/// One message of an <see cref="IPop3Mailbox"/>: its unique id, its size and a way to read its bytes.
/// The bytes may use LF or CRLF line endings; the server sends them with CRLF.
/// </summary>
public sealed class Pop3MailboxMessage
{
    private readonly Func<Stream> _open;

    /// <summary>Describes a message whose bytes are read by <paramref name="open"/> each time it is sent.</summary>
    /// <param name="uid">The UIDL id: 1 to 70 printable ASCII characters without spaces (RFC 1939).</param>
    /// <param name="size">
    /// The size LIST reports: the octets of the message with every line ending as CRLF, before
    /// dot-stuffing. <see cref="MeasureAsync"/> computes it.
    /// </param>
    /// <param name="open">Opens a fresh stream over the stored bytes; the server disposes it.</param>
    public Pop3MailboxMessage(string uid, long size, Func<Stream> open)
    {
        ArgumentNullException.ThrowIfNull(uid);
        ArgumentNullException.ThrowIfNull(open);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (uid.Length is < 1 or > 70 || uid.Any(c => c is < '!' or > '~'))
            throw new ArgumentException("A UID is 1 to 70 characters from '!' to '~' (RFC 1939 section 7).", nameof(uid));
        Uid = uid;
        Size = size;
        _open = open;
    }

    /// <summary>The unique id UIDL reports.</summary>
    public string Uid { get; }

    /// <summary>The size in octets with CRLF line endings, as LIST reports it.</summary>
    public long Size { get; }

    /// <summary>Where the mailbox keeps this message (a path, a byte range); for its own use at commit.</summary>
    internal object? Storage { get; init; }

    /// <summary>Opens a stream over the stored bytes.</summary>
    public Stream OpenRead() => _open();

    /// <summary>A message held in memory; the size is computed.</summary>
    public static Pop3MailboxMessage FromBytes(string uid, byte[] content)
    {
        ArgumentNullException.ThrowIfNull(content);
        return new Pop3MailboxMessage(uid, MessageFormatter.Measure(content), () => new MemoryStream(content, writable: false));
    }

    /// <summary>The size to report for the bytes <paramref name="content"/> yields: octets in CRLF form. Reads the stream to its end.</summary>
    public static ValueTask<long> MeasureAsync(Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        return MessageFormatter.MeasureAsync(content, cancellationToken);
    }
}
