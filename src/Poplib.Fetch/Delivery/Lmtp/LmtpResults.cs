namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>What became of a message for one recipient.</summary>
internal enum LmtpRecipientStatus
{
    /// <summary>The server answered 2xx: the message is in the recipient's mailbox.</summary>
    Delivered,

    /// <summary>4xx: not delivered; try again later.</summary>
    TemporaryFailure,

    /// <summary>5xx: not delivered, and trying again will not help.</summary>
    PermanentFailure,
}

/// <summary>One recipient's outcome and the reply it rests on (to RCPT, to MAIL, to DATA, or after the final dot).</summary>
internal sealed record LmtpRecipientResult(string Recipient, LmtpRecipientStatus Status, LmtpReply Reply)
{
    internal static LmtpRecipientResult From(string recipient, LmtpReply reply) =>
        new(recipient, reply.IsPositive ? LmtpRecipientStatus.Delivered
            : reply.IsTransientFailure ? LmtpRecipientStatus.TemporaryFailure
            : LmtpRecipientStatus.PermanentFailure, reply);
}

/// <summary>The outcome of one message: a result per recipient, in the order they were given.</summary>
internal sealed class LmtpDeliveryResult(IReadOnlyList<LmtpRecipientResult> recipients)
{
    public IReadOnlyList<LmtpRecipientResult> Recipients { get; } = recipients;

    public bool AllDelivered => Recipients.All(r => r.Status == LmtpRecipientStatus.Delivered);

    public bool AnyTemporaryFailure => Recipients.Any(r => r.Status == LmtpRecipientStatus.TemporaryFailure);

    public bool AnyPermanentFailure => Recipients.Any(r => r.Status == LmtpRecipientStatus.PermanentFailure);

    public LmtpRecipientResult this[string recipient] =>
        Recipients.First(r => string.Equals(r.Recipient, recipient, StringComparison.Ordinal));
}
