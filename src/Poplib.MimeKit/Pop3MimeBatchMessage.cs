using MimeKit;

namespace Poplib;

/// <summary>
/// One message of <see cref="Pop3ClientMimeExtensions.RetrMimeMessages(Pop3Client, IEnumerable{Pop3ListEntry}, ParserOptions?)"/>:
/// the server's reply (<see cref="Pop3BatchItem.IsOk"/>, <see cref="Pop3BatchItem.Error"/> for a <c>-ERR</c>)
/// and, when it answered <c>+OK</c>, the parsed message or why it could not be parsed. Unlike the raw
/// batch's stream, the message stays valid after the batch moves on.
/// </summary>
public sealed class Pop3MimeBatchMessage : Pop3BatchItem
{
    private readonly MimeMessage? _message;

    internal Pop3MimeBatchMessage(Pop3BatchMessage item, MimeMessage? message, Pop3MimeFormatException? formatError)
        : base(item.Number, item.Response, "RETR")
    {
        _message = message;
        FormatError = formatError;
    }

    /// <summary>Whether the message was retrieved and parsed: <see cref="Message"/> can be read.</summary>
    public bool IsParsed => _message is not null;

    /// <summary>
    /// The server sent the message but MimeKit could not parse it (the rest of it was skipped; the
    /// session goes on); <see langword="null"/> otherwise.
    /// </summary>
    public Pop3MimeFormatException? FormatError { get; }

    /// <summary>The parsed message.</summary>
    /// <exception cref="Pop3CommandException">The server answered this message's RETR with <c>-ERR</c>.</exception>
    /// <exception cref="Pop3MimeFormatException">The message could not be parsed.</exception>
    public MimeMessage Message => _message ?? throw (Exception?)Error ?? FormatError!;
}
