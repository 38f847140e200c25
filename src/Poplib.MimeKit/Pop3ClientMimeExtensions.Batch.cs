using System.Runtime.CompilerServices;
using MimeKit;
using Poplib.MimeParsing;

namespace Poplib;

public static partial class Pop3ClientMimeExtensions
{
    /// <summary>
    /// RETR for many messages, pipelined (<see cref="Pop3Client.RetrMany(IEnumerable{Pop3ListEntry})"/>),
    /// each parsed into a <see cref="MimeMessage"/> as it streams in. Messages are yielded in order, one
    /// outcome each: a <c>-ERR</c> (<see cref="Pop3BatchItem.Error"/>) or a message MimeKit cannot parse
    /// (<see cref="Pop3MimeBatchMessage.FormatError"/>) never stops the others. Only the message being
    /// parsed is in memory (each bound by <see cref="Pop3ClientOptions.MaxInMemoryMessageSize"/>), however
    /// many are asked for. Stopping early reads and drops the replies still owed.
    /// </summary>
    /// <param name="client">An authenticated client.</param>
    /// <param name="messages">The messages, from <see cref="Pop3Client.List()"/>: their sizes bound the octets in flight.</param>
    /// <param name="options">MimeKit's parser options; <see langword="null"/> for its defaults.</param>
    public static IEnumerable<Pop3MimeBatchMessage> RetrMimeMessages(this Pop3Client client, IEnumerable<Pop3ListEntry> messages, ParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return ParseEach(client, client.RetrMany(messages), options);
    }

    /// <inheritdoc cref="RetrMimeMessages(Pop3Client, IEnumerable{Pop3ListEntry}, ParserOptions?)"/>
    /// <param name="client">An authenticated client.</param>
    /// <param name="numbers">The message numbers.</param>
    /// <param name="options">MimeKit's parser options; <see langword="null"/> for its defaults.</param>
    public static IEnumerable<Pop3MimeBatchMessage> RetrMimeMessages(this Pop3Client client, IEnumerable<int> numbers, ParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return ParseEach(client, client.RetrMany(numbers), options);
    }

    /// <inheritdoc cref="RetrMimeMessages(Pop3Client, IEnumerable{Pop3ListEntry}, ParserOptions?)"/>
    public static IAsyncEnumerable<Pop3MimeBatchMessage> RetrMimeMessagesAsync(this Pop3Client client, IEnumerable<Pop3ListEntry> messages, CancellationToken cancellationToken = default) =>
        RetrMimeMessagesAsync(client, messages, options: null, cancellationToken);

    /// <inheritdoc cref="RetrMimeMessages(Pop3Client, IEnumerable{Pop3ListEntry}, ParserOptions?)"/>
    public static IAsyncEnumerable<Pop3MimeBatchMessage> RetrMimeMessagesAsync(this Pop3Client client, IEnumerable<Pop3ListEntry> messages, ParserOptions? options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(messages);
        return ParseEachAsync(client, ct => client.RetrManyAsync(messages, ct), options, cancellationToken);
    }

    /// <inheritdoc cref="RetrMimeMessages(Pop3Client, IEnumerable{int}, ParserOptions?)"/>
    public static IAsyncEnumerable<Pop3MimeBatchMessage> RetrMimeMessagesAsync(this Pop3Client client, IEnumerable<int> numbers, CancellationToken cancellationToken = default) =>
        RetrMimeMessagesAsync(client, numbers, options: null, cancellationToken);

    /// <inheritdoc cref="RetrMimeMessages(Pop3Client, IEnumerable{int}, ParserOptions?)"/>
    public static IAsyncEnumerable<Pop3MimeBatchMessage> RetrMimeMessagesAsync(this Pop3Client client, IEnumerable<int> numbers, ParserOptions? options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(numbers);
        return ParseEachAsync(client, ct => client.RetrManyAsync(numbers, ct), options, cancellationToken);
    }

    private static IEnumerable<Pop3MimeBatchMessage> ParseEach(Pop3Client client, IEnumerable<Pop3BatchMessage> batch, ParserOptions? options)
    {
        foreach (Pop3BatchMessage item in batch)
            yield return MimeBodyParser.RunSync(ParseItemAsync(client, item, options, async: false, CancellationToken.None));
    }

    private static async IAsyncEnumerable<Pop3MimeBatchMessage> ParseEachAsync(Pop3Client client, Func<CancellationToken, IAsyncEnumerable<Pop3BatchMessage>> batch,
        ParserOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (Pop3BatchMessage item in batch(cancellationToken).ConfigureAwait(false))
            yield return await ParseItemAsync(client, item, options, async: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Parses one item's body. A malformed message becomes the item's outcome; the batch skips what the
    /// parser left unread when it moves on, so the next message starts where it should.
    /// </summary>
    private static async ValueTask<Pop3MimeBatchMessage> ParseItemAsync(Pop3Client client, Pop3BatchMessage item, ParserOptions? options, bool async, CancellationToken cancellationToken)
    {
        if (!item.IsOk)
            return new Pop3MimeBatchMessage(item, message: null, formatError: null);
        try
        {
            var body = (Pop3MessageStream)item.Content;
            MimeMessage message = await MimeBodyParser.ParseMessageAsync(client, body, item.Number, options, async, cancellationToken).ConfigureAwait(false);
            return new Pop3MimeBatchMessage(item, message, formatError: null);
        }
        catch (Pop3MimeFormatException e)
        {
            return new Pop3MimeBatchMessage(item, message: null, e);
        }
    }
}
