namespace Poplib.Fetch;

/// <summary>A message handed to an <see cref="IMessageSink"/>: who it is, for an idempotent sink to key on.</summary>
/// <param name="Account">The mailbox's key (<c>user@host:port</c>).</param>
/// <param name="AccountName">The account's display name.</param>
/// <param name="Key">The message's key in that mailbox: its UIDL, or a fingerprint where the server has none. (Account, Key) names one message for good.</param>
/// <param name="Size">The octets of the content stream.</param>
/// <param name="MessageId">The header's Message-ID, when it has one (not unique in general: do not key on it alone).</param>
/// <param name="HeadersOnly">True for a header-only copy of a message over the size limit (<see cref="OversizeAction.Headers"/>); it starts with an <c>X-Poplib-Truncated:</c> line.</param>
public sealed record FetchedMessage(AccountKey Account, string AccountName, MessageKey Key, long Size, string? MessageId, bool HeadersOnly);

/// <summary>
/// Your application's destination: receives each new message as a stream with its identity. A
/// successful return means "durably accepted" — committed to your database, queue or store; only then
/// is the message recorded as delivered (and, in delete mode, deleted from the server).
/// <para><b>The guarantee.</b> <see cref="AcceptAsync"/> is called again for a message only if it did
/// not return successfully for it: it threw, it did not return within
/// <see cref="FetchPolicy.SinkTimeout"/>, the run was cancelled while it ran, or the process died
/// before the engine recorded its return (one state commit, milliseconds). That is at-least-once into
/// the sink, and exactly-once when the sink is idempotent by the identity it is given: make
/// (<see cref="FetchedMessage.Account"/>, <see cref="FetchedMessage.Key"/>) a unique key of what you
/// store, and treat a second delivery of the same pair as success without a second effect (for
/// example <c>INSERT … ON CONFLICT DO NOTHING</c> in the same transaction as your work).</para>
/// <para><b>Failures.</b> A sink that throws: the message is not recorded, stays on the server (never
/// deleted), the error is a warning of the run, and the run goes on with the next message; the run
/// then fails with <see cref="FetchFailure.Rejected"/>, and the next run offers the message again. A
/// sink that does not return within <see cref="FetchPolicy.SinkTimeout"/> (its token is cancelled
/// then): the message stays on the server, is not recorded, and the run stops with
/// <see cref="FetchFailure.Destination"/> (a hung sink would hang every message after it).</para>
/// <para>Calls are sequential within a run, in mailbox order; runs of different accounts may call one
/// sink at once. The stream is valid only during the call; read it to its end or not, as you need.</para>
/// </summary>
public interface IMessageSink
{
    /// <summary>Stores <paramref name="content"/> durably; returns only when it is stored (see the guarantee above).</summary>
    /// <param name="message">Who the message is.</param>
    /// <param name="content">
    /// The message, read-only, from its first octet: in the local form every destination gets (a
    /// Maildir file, a delivery agent's input) — RFC 5322 with LF line ends, dot-unstuffed.
    /// </param>
    /// <param name="cancellationToken">Cancelled at <see cref="FetchPolicy.SinkTimeout"/> or when the run is cancelled.</param>
    ValueTask AcceptAsync(FetchedMessage message, Stream content, CancellationToken cancellationToken);
}
