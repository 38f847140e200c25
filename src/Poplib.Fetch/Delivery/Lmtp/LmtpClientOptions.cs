namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>Timeouts and limits of an <see cref="LmtpClient"/>. Every wait and every read is bounded.</summary>
internal sealed record LmtpClientOptions
{
    /// <summary>Connecting (name lookup included on the async path), and then the greeting. Default 30 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Each write, and each reply to a command: the whole reply must have arrived in this time. Default 60 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Each reply after the message's final dot, one per recipient: the server delivers (and may fsync)
    /// before it answers. Default 10 minutes, as RFC 5321 section 4.5.3.2.6 recommends.
    /// </summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The longest reply line accepted, in octets without CRLF. RFC 5321 allows 512; servers write
    /// longer texts, so the default is 2,048.
    /// </summary>
    public int MaxReplyLineLength { get; init; } = 2048;

    /// <summary>The most lines one reply may have (an LHLO reply lists a line per extension). Default 100.</summary>
    public int MaxReplyLines { get; init; } = 100;

    /// <summary>The most recipients of one message (RFC 5321 requires servers to take 100). Default 100.</summary>
    public int MaxRecipients { get; init; } = 100;

    /// <summary>
    /// Whether to pipeline MAIL, RCPT and DATA when the server offers PIPELINING (RFC 2920). Default true;
    /// false always waits for each reply before the next command.
    /// </summary>
    public bool UsePipelining { get; init; } = true;

    /// <summary>The name this client gives in LHLO. Default <c>localhost</c>.</summary>
    public string LocalName { get; init; } = "localhost";

    /// <summary>How much of a message is read at a time when it is sent. Default 64 KiB.</summary>
    public int MessageBufferSize { get; init; } = 64 * 1024;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Timeout, TimeSpan.Zero, nameof(Timeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(DataTimeout, TimeSpan.Zero, nameof(DataTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReplyLineLength, 512, nameof(MaxReplyLineLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReplyLines, 1, nameof(MaxReplyLines));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRecipients, 1, nameof(MaxRecipients));
        ArgumentOutOfRangeException.ThrowIfLessThan(MessageBufferSize, 512, nameof(MessageBufferSize));
        LmtpAddress.ValidateDomain(LocalName, nameof(LocalName));
    }
}
