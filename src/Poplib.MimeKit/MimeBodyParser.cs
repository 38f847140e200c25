using System.Diagnostics;
using System.Runtime.CompilerServices;
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
    // One parser per client, reused from message to message: a new MimeParser costs tens of kilobytes
    // of buffers, as much again as a small message, and made parsing a mailbox of 4 KiB messages half
    // as fast. A client runs one command at a time (the body stream holds it busy), so its parser is
    // never used by two parses at once; it goes when the client does.
    private static readonly ConditionalWeakTable<Pop3Client, MimeParser> Parsers = [];

    public static ValueTask<MimeMessage> ParseMessageAsync(Pop3Client client, Pop3MessageStream body, int number, ParserOptions? options, bool async, CancellationToken cancellationToken) =>
        ParseAsync(client, body, number, options, static (parser, ct) => parser.ParseMessage(ct), static (parser, ct) => parser.ParseMessageAsync(ct), async, cancellationToken);

    public static ValueTask<HeaderList> ParseHeadersAsync(Pop3Client client, Pop3MessageStream body, int number, ParserOptions? options, bool async, CancellationToken cancellationToken) =>
        ParseAsync(client, body, number, options, static (parser, ct) => parser.ParseHeaders(ct), static (parser, ct) => parser.ParseHeadersAsync(ct), async, cancellationToken);

    private static async ValueTask<T> ParseAsync<T>(Pop3Client client, Pop3MessageStream body, int number, ParserOptions? options,
        Func<MimeParser, CancellationToken, T> parse, Func<MimeParser, CancellationToken, Task<T>> parseAsync, bool async, CancellationToken cancellationToken)
    {
        MimeParser parser = Parsers.GetValue(client, static _ => new MimeParser(Stream.Null, persistent: false));
        parser.Options = options ?? ParserOptions.Default;
        parser.SetStream(new InMemoryLimitStream(body, client.MaxInMemoryMessageSize), MimeFormat.Entity, persistent: false);
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
            // closed the connection; this covers a cancellation that MimeParser notices itself.)
            body.Abandon("a MIME parse was canceled before the message was read to the end");
            throw;
        }
        finally
        {
            // Let go of the body stream: a parser kept for the next message holds no finished one.
            parser.SetStream(Stream.Null, MimeFormat.Entity, persistent: false);
        }
    }

    /// <summary>The sync forms run the shared path with async=false: it completes synchronously, never sync-over-async.</summary>
    public static T RunSync<T>(ValueTask<T> task)
    {
        Debug.Assert(task.IsCompleted, "The synchronous path must complete synchronously.");
        return task.GetAwaiter().GetResult();
    }
}
