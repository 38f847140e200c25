namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>Something went wrong talking to an LMTP server. The subclasses say what to do next.</summary>
internal abstract class LmtpException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>
/// The server broke the protocol (a reply that is not one, a line or a reply past its limit, the
/// connection closed in the middle of an exchange). The connection is closed: connect again.
/// What was sent in the transaction in flight may or may not have been delivered.
/// </summary>
internal class LmtpProtocolException(string message, Exception? innerException = null) : LmtpException(message, innerException);

/// <summary>The server sent more than a limit of <see cref="LmtpClientOptions"/> allows; the connection is closed.</summary>
internal sealed class LmtpLimitExceededException(string limit, long value, string what)
    : LmtpProtocolException($"{what}: more than {value} (LmtpClientOptions.{limit}); the connection is closed.")
{
    /// <summary>The name of the option whose limit was exceeded.</summary>
    public string Limit { get; } = limit;

    public long Value { get; } = value;
}

/// <summary>
/// The server refused the session itself: its greeting, LHLO, or RSET was not positive. The
/// connection is closed; <see cref="Reply"/> says whether to try again later (4xx) or not (5xx).
/// </summary>
internal sealed class LmtpSessionRefusedException(string what, LmtpReply reply)
    : LmtpException($"The LMTP server refused {what}: {reply}; the connection is closed.")
{
    public LmtpReply Reply { get; } = reply;
}

/// <summary>
/// The connection failed (or the server broke the protocol, or did not answer in time) after the whole
/// message had been sent, while the per-recipient replies were being read. The server may have
/// delivered to anyone: <see cref="Known"/> holds the replies that did arrive; for <see cref="Unknown"/>
/// the outcome cannot be known. The connection is closed; <see cref="Exception.InnerException"/> is the cause.
/// </summary>
internal sealed class LmtpDeliveryInterruptedException(IReadOnlyList<LmtpRecipientResult> known, IReadOnlyList<string> unknown, Exception cause)
    : LmtpProtocolException($"The LMTP session broke after the message was sent, with the outcome of {unknown.Count} recipient(s) unknown ({known.Count} known): {cause.Message}", cause)
{
    public IReadOnlyList<LmtpRecipientResult> Known { get; } = known;

    public IReadOnlyList<string> Unknown { get; } = unknown;
}
