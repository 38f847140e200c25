using MimeKit;
using Poplib.MimeParsing;

namespace Poplib;

/// <summary>
/// MimeKit on top of <see cref="Pop3Client"/>: messages parsed as they stream in, with the client's
/// limits. Each form has a synchronous and an asynchronous twin, and both run the same code.
/// </summary>
public static partial class Pop3ClientMimeExtensions
{
    /// <summary>
    /// RETR, parsed into a <see cref="MimeMessage"/> while the message arrives: MimeKit's parser reads
    /// the client's dot-unstuffed body stream (<see cref="Pop3Client.OpenRetr(int)"/>) directly, so no
    /// copy of the raw message is held besides the parsed one. Bound by
    /// <see cref="Pop3ClientOptions.MaxInMemoryMessageSize"/> like <see cref="Pop3Client.Retr(int)"/>.
    /// </summary>
    /// <param name="client">An authenticated client.</param>
    /// <param name="number">The message number.</param>
    /// <param name="options">MimeKit's parser options (charset fallback, address parsing …); <see langword="null"/> for its defaults.</param>
    /// <exception cref="Pop3CommandException">The server answered <c>-ERR</c> (no such message): the session goes on.</exception>
    /// <exception cref="Pop3MimeFormatException">MimeKit could not parse the message; the rest of it was skipped and the session goes on.</exception>
    /// <exception cref="Pop3LimitExceededException">The message is larger than <see cref="Pop3ClientOptions.MaxInMemoryMessageSize"/>; the connection is closed.</exception>
    public static MimeMessage RetrMimeMessage(this Pop3Client client, int number, ParserOptions? options = null) =>
        MimeBodyParser.RunSync(RetrieveAsync(client, number, topLines: null, options, MimeBodyParser.ParseMessageAsync, async: false, CancellationToken.None));

    /// <inheritdoc cref="RetrMimeMessage(Pop3Client, int, ParserOptions?)"/>
    public static Task<MimeMessage> RetrMimeMessageAsync(this Pop3Client client, int number, CancellationToken cancellationToken = default) =>
        RetrMimeMessageAsync(client, number, options: null, cancellationToken);

    /// <inheritdoc cref="RetrMimeMessage(Pop3Client, int, ParserOptions?)"/>
    public static Task<MimeMessage> RetrMimeMessageAsync(this Pop3Client client, int number, ParserOptions? options, CancellationToken cancellationToken = default) =>
        RetrieveAsync(client, number, topLines: null, options, MimeBodyParser.ParseMessageAsync, async: true, cancellationToken).AsTask();

    /// <summary>
    /// The header of a message as a MimeKit <see cref="HeaderList"/>, from <c>TOP n 0</c>: the body is
    /// not transferred and, unlike RETR, the message is not marked as seen. Check
    /// <see cref="Pop3Capabilities.Top"/> first: TOP is optional. Bound by
    /// <see cref="Pop3ClientOptions.MaxInMemoryMessageSize"/> like <see cref="Pop3Client.Top(int, int)"/>.
    /// </summary>
    /// <inheritdoc cref="RetrMimeMessage(Pop3Client, int, ParserOptions?)"/>
    public static HeaderList TopHeaders(this Pop3Client client, int number, ParserOptions? options = null) =>
        MimeBodyParser.RunSync(RetrieveAsync(client, number, topLines: 0, options, MimeBodyParser.ParseHeadersAsync, async: false, CancellationToken.None));

    /// <inheritdoc cref="TopHeaders(Pop3Client, int, ParserOptions?)"/>
    public static Task<HeaderList> TopHeadersAsync(this Pop3Client client, int number, CancellationToken cancellationToken = default) =>
        TopHeadersAsync(client, number, options: null, cancellationToken);

    /// <inheritdoc cref="TopHeaders(Pop3Client, int, ParserOptions?)"/>
    public static Task<HeaderList> TopHeadersAsync(this Pop3Client client, int number, ParserOptions? options, CancellationToken cancellationToken = default) =>
        RetrieveAsync(client, number, topLines: 0, options, MimeBodyParser.ParseHeadersAsync, async: true, cancellationToken).AsTask();

    private delegate ValueTask<T> BodyParse<T>(Pop3Client client, Pop3MessageStream body, int number, ParserOptions? options, bool async, CancellationToken cancellationToken);

    /// <summary>Opens RETR (or TOP), parses the body, and disposes the stream, which skips whatever the parser left unread.</summary>
    private static async ValueTask<T> RetrieveAsync<T>(Pop3Client client, int number, int? topLines, ParserOptions? options, BodyParse<T> parse, bool async, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        Pop3MessageStream body = (topLines, async) switch
        {
            (int lines, true) => await client.OpenTopAsync(number, lines, cancellationToken).ConfigureAwait(false),
            (int lines, false) => client.OpenTop(number, lines),
            (null, true) => await client.OpenRetrAsync(number, cancellationToken).ConfigureAwait(false),
            (null, false) => client.OpenRetr(number),
        };
        try
        {
            return await parse(client, body, number, options, async, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (async)
                await body.DisposeAsync().ConfigureAwait(false);
            else
                body.Dispose();
        }
    }
}
