using System.Diagnostics;
using MimeKit;

namespace Poplib.MimeParsing;

/// <summary>
/// The one path from a message body to MimeKit, for the single and the batch forms, sync and async:
/// MimeParser reads the body stream as it arrives (never persistent: the stream is gone once the
/// message has been read, so every part's content must be copied out of it, and MimeParser copies
/// each part once, into its own memory), a malformed message becomes <see cref="Pop3MimeFormatException"/>,
/// and a cancellation closes the connection instead of draining the rest.
/// </summary>
internal static class MimeBodyParser
{
    public static ValueTask<MimeMessage> ParseMessageAsync(Pop3MessageStream body, int number, long limit, ParserOptions? options, bool async, CancellationToken cancellationToken) =>
        ParseAsync(body, number, limit, options, static (parser, ct) => parser.ParseMessage(ct), static (parser, ct) => parser.ParseMessageAsync(ct), async, cancellationToken);

    public static ValueTask<HeaderList> ParseHeadersAsync(Pop3MessageStream body, int number, long limit, ParserOptions? options, bool async, CancellationToken cancellationToken) =>
        ParseAsync(body, number, limit, options, static (parser, ct) => parser.ParseHeaders(ct), static (parser, ct) => parser.ParseHeadersAsync(ct), async, cancellationToken);

    private static async ValueTask<T> ParseAsync<T>(Pop3MessageStream body, int number, long limit, ParserOptions? options,
        Func<MimeParser, CancellationToken, T> parse, Func<MimeParser, CancellationToken, Task<T>> parseAsync, bool async, CancellationToken cancellationToken)
    {
        var parser = new MimeParser(options ?? ParserOptions.Default, new InMemoryLimitStream(body, limit), MimeFormat.Entity, persistent: false);
        try
        {
            return async ? await parseAsync(parser, cancellationToken).ConfigureAwait(false) : parse(parser, cancellationToken);
        }
        catch (FormatException e)
        {
            throw new Pop3MimeFormatException(number, e);
        }
        catch (OperationCanceledException)
        {
            // The caller wants out now: draining a large message first would defeat that, and a reply
            // left half-read must never be taken for the next one's. (A cancelled read has already
            // closed the connection; MimeParser also checks the token between reads.)
            body.Abandon("a MIME parse was canceled before the message was read to the end");
            throw;
        }
    }

    /// <summary>The sync forms run the shared path with async=false: it completes synchronously, never sync-over-async.</summary>
    public static T RunSync<T>(ValueTask<T> task)
    {
        Debug.Assert(task.IsCompleted, "The synchronous path must complete synchronously.");
        return task.GetAwaiter().GetResult();
    }
}
