namespace Poplib;

/// <summary>
/// MimeKit could not parse a retrieved message (its <see cref="Exception.InnerException"/> is MimeKit's
/// <see cref="FormatException"/>). The POP3 session is not affected: the rest of the message was read
/// and dropped, so the next command can follow at once; retrieve the raw bytes with
/// <see cref="Pop3Client.RetrTo(int, Stream)"/> to keep or inspect the message. MimeKit is lenient
/// (it parses most damaged mail into something); this is what is left over, typically a message that
/// does not start with a header.
/// </summary>
public sealed class Pop3MimeFormatException : FormatException
{
    /// <summary>Creates the exception for message <paramref name="messageNumber"/> and MimeKit's error.</summary>
    public Pop3MimeFormatException(int messageNumber, FormatException innerException)
        : base($"Message {messageNumber} could not be parsed as MIME: {innerException?.Message}", innerException) =>
        MessageNumber = messageNumber;

    /// <summary>The message number whose content could not be parsed.</summary>
    public int MessageNumber { get; }
}
