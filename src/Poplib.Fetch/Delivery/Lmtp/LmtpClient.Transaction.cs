using System.Buffers;
using System.Globalization;
using System.Text;

namespace Poplib.Fetch.Delivery.Lmtp;

internal sealed partial class LmtpClient
{
    // RFC 6531 section 3.7.4.1: what a server without SMTPUTF8 would answer; decided here, nothing is sent.
    private static readonly LmtpReply s_needsSmtpUtf8 = new(553, "5.6.7",
        ["A UTF-8 address needs SMTPUTF8, which this LMTP server does not offer (decided by the client; nothing was sent)."]);

    private const int ServiceClosing = 421;

    /// <summary>
    /// Delivers one message from <paramref name="sender"/> ("" for the null path <c>&lt;&gt;</c>) to
    /// <paramref name="recipients"/>, streamed from the current position of <paramref name="message"/>
    /// (line endings made CRLF, dot-stuffed). Returns a result per recipient, in their order; a failure
    /// reply to MAIL or DATA applies to every recipient. After a failure the transaction is reset, so
    /// the session takes the next message (unless the server said 421: then <see cref="IsConnected"/> is false).
    /// A seekable <paramref name="message"/> is read twice when the server offers 8BITMIME or SIZE
    /// (to declare <c>BODY=8BITMIME</c> only when there are 8-bit bytes, and the size); a stream that
    /// cannot seek is declared 8-bit whenever the server offers 8BITMIME.
    /// </summary>
    /// <exception cref="ArgumentException">A sender or recipient that cannot be sent (CR, LF, NUL, spaces, brackets, too long); nothing was sent.</exception>
    /// <exception cref="LmtpProtocolException">The server broke the protocol or the connection; it is closed. Delivery of this message is unknown for the recipients without a result.</exception>
    /// <exception cref="LmtpDeliveryInterruptedException">The same, after the whole message was sent: some recipients may have it; the exception says whose replies arrived.</exception>
    /// <exception cref="TimeoutException">The server did not answer in time; the connection is closed.</exception>
    public LmtpDeliveryResult Deliver(string sender, IReadOnlyList<string> recipients, Stream message) =>
        RunSync(DeliverCoreAsync(sender, recipients, message, async: false, CancellationToken.None));

    /// <inheritdoc cref="Deliver"/>
    public Task<LmtpDeliveryResult> DeliverAsync(string sender, IReadOnlyList<string> recipients, Stream message, CancellationToken cancellationToken = default) =>
        DeliverCoreAsync(sender, recipients, message, async: true, cancellationToken).AsTask();

    private async ValueTask<LmtpDeliveryResult> DeliverCoreAsync(string sender, IReadOnlyList<string> recipients, Stream message, bool async, CancellationToken cancellationToken)
    {
        LmtpAddress.ValidateSender(sender, nameof(sender));
        ArgumentNullException.ThrowIfNull(recipients);
        ArgumentNullException.ThrowIfNull(message);
        if (recipients.Count == 0)
            throw new ArgumentException("A message needs at least one recipient.", nameof(recipients));
        if (recipients.Count > _options.MaxRecipients)
            throw new ArgumentException($"{recipients.Count} recipients are more than LmtpClientOptions.MaxRecipients ({_options.MaxRecipients}).", nameof(recipients));
        foreach (string recipient in recipients)
            LmtpAddress.ValidateRecipient(recipient, nameof(recipients));
        EnsureConnected();

        bool utf8 = !LmtpAddress.IsAscii(sender) || recipients.Any(r => !LmtpAddress.IsAscii(r));
        if (utf8 && !Capabilities.SmtpUtf8)
            return new LmtpDeliveryResult([.. recipients.Select(r => LmtpRecipientResult.From(r, s_needsSmtpUtf8))]);

        return await GuardAsync(() => TransactionAsync(sender, recipients, message, utf8, async, cancellationToken)).ConfigureAwait(false);
    }

    private async ValueTask<LmtpDeliveryResult> TransactionAsync(string sender, IReadOnlyList<string> recipients, Stream message, bool utf8, bool async, CancellationToken cancellationToken)
    {
        string mail = await MailCommandAsync(sender, message, utf8, async, cancellationToken).ConfigureAwait(false);
        var rcptReplies = new LmtpReply?[recipients.Count];
        LmtpReply mailReply;
        LmtpReply? dataReply = null;

        if (Capabilities.Pipelining && _options.UsePipelining)
        {
            // RFC 2920: MAIL, every RCPT and DATA in one write (bounded by MaxRecipients); the replies in order.
            var group = new StringBuilder(mail).Append("\r\n");
            foreach (string recipient in recipients)
                group.Append("RCPT TO:<").Append(recipient).Append(">\r\n");
            group.Append("DATA\r\n");
            await WriteAsync(Encoding.UTF8.GetBytes(group.ToString()), async, cancellationToken).ConfigureAwait(false);
            mailReply = await ReplyToAsync("MAIL", allowIntermediate: false, async, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < recipients.Count; i++)
                rcptReplies[i] = await ReplyToAsync("RCPT", allowIntermediate: false, async, cancellationToken).ConfigureAwait(false);
            dataReply = await ReplyToAsync("DATA", allowIntermediate: true, async, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            mailReply = await LockstepAsync(mail, "MAIL", allowIntermediate: false, async, cancellationToken).ConfigureAwait(false);
            if (mailReply.IsPositive)
            {
                for (int i = 0; i < recipients.Count && !_closing; i++)
                    rcptReplies[i] = await LockstepAsync($"RCPT TO:<{recipients[i]}>", "RCPT", allowIntermediate: false, async, cancellationToken).ConfigureAwait(false);
                if (rcptReplies.Any(r => r?.IsPositive == true))
                    dataReply = await LockstepAsync("DATA", "DATA", allowIntermediate: true, async, cancellationToken).ConfigureAwait(false);
            }
        }

        var results = new LmtpRecipientResult?[recipients.Count];
        List<int> accepted = [];
        for (int i = 0; i < recipients.Count; i++)
        {
            LmtpReply reply = !mailReply.IsPositive ? mailReply : rcptReplies[i] ?? Closing;
            if (reply.IsPositive)
                accepted.Add(i);
            else
                results[i] = LmtpRecipientResult.From(recipients[i], reply);
        }

        bool transactionOver = false;
        if (dataReply is { IsIntermediate: true })
        {
            if (!mailReply.IsPositive || accepted.Count == 0)
            {
                // A server that said 354 with no one to deliver to (possible when pipelined): end the
                // (empty) message and take its one reply, which carries nothing for anyone.
                await WriteAsync(".\r\n"u8.ToArray(), async, cancellationToken).ConfigureAwait(false);
                await ReplyToAsync("the end of DATA", allowIntermediate: false, async, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await SendMessageAsync(message, async, cancellationToken).ConfigureAwait(false);
                await ReadFinalRepliesAsync(recipients, accepted, results, async, cancellationToken).ConfigureAwait(false);
                transactionOver = true;
            }
        }
        else
        {
            foreach (int i in accepted)
                results[i] = LmtpRecipientResult.From(recipients[i], dataReply ?? Closing);
        }

        if (_closing)
            Close();
        else if (!transactionOver)
            await ResetAfterFailureAsync(async, cancellationToken).ConfigureAwait(false);
        return new LmtpDeliveryResult([.. results.Select(r => r!)]);
    }

    /// <summary>
    /// RFC 2033 section 4.2: one reply per recipient whose RCPT succeeded, in RCPT order. The message is
    /// with the server now, so a failure here leaves some outcomes unknown, and says which.
    /// </summary>
    private async ValueTask ReadFinalRepliesAsync(IReadOnlyList<string> recipients, List<int> accepted, LmtpRecipientResult?[] results, bool async, CancellationToken cancellationToken)
    {
        foreach (int i in accepted)
        {
            try
            {
                LmtpReply final = await ReplyToAsync("the end of DATA", allowIntermediate: false, async, cancellationToken, _options.DataTimeout).ConfigureAwait(false);
                results[i] = LmtpRecipientResult.From(recipients[i], final);
            }
            catch (Exception e) when (e is LmtpProtocolException or TimeoutException or IOException or System.Net.Sockets.SocketException)
            {
                throw new LmtpDeliveryInterruptedException(
                    [.. accepted.Where(j => results[j] is not null).Select(j => results[j]!)],
                    [.. accepted.Where(j => results[j] is null).Select(j => recipients[j])],
                    e);
            }
        }
    }

    // Set when the server said 421: it is closing the connection, so nothing more is read or sent.
    private bool _closing;
    private LmtpReply? _closingReply;

    private LmtpReply Closing => _closingReply ?? new LmtpReply(ServiceClosing, null, ["The LMTP server is closing the connection."]);

    private async ValueTask<LmtpReply> LockstepAsync(string command, string verb, bool allowIntermediate, bool async, CancellationToken cancellationToken)
    {
        if (_closing)
            return Closing;
        await WriteAsync(Encoding.UTF8.GetBytes(command + "\r\n"), async, cancellationToken).ConfigureAwait(false);
        return await ReplyToAsync(verb, allowIntermediate, async, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The next reply, checked for its place: 354 only for DATA, 1xx and other 3xx never. After a 421
    /// nothing more is read: the same 421 stands for every reply still due.
    /// </summary>
    private async ValueTask<LmtpReply> ReplyToAsync(string verb, bool allowIntermediate, bool async, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        if (_closing)
            return Closing;
        LmtpReply reply = await ReadReplyAsync(timeout ?? _options.Timeout, async, cancellationToken).ConfigureAwait(false);
        if (reply.Code == ServiceClosing)
        {
            _closing = true;
            _closingReply = reply;
        }
        else if (reply.IsIntermediate ? !(allowIntermediate && reply.Code == 354) : allowIntermediate && reply.IsPositive)
        {
            throw new LmtpProtocolException($"The LMTP server answered {verb} with \"{reply}\", which is not a reply {verb} can have; the connection is closed.");
        }

        return reply;
    }

    private async ValueTask ResetAfterFailureAsync(bool async, CancellationToken cancellationToken)
    {
        LmtpReply reply = await LockstepAsync("RSET", "RSET", allowIntermediate: false, async, cancellationToken).ConfigureAwait(false);
        if (_closing)
            Close();
        else if (reply.Code != 250)
            throw new LmtpSessionRefusedException("RSET", reply);
    }

    private async ValueTask<string> MailCommandAsync(string sender, Stream message, bool utf8, bool async, CancellationToken cancellationToken)
    {
        var mail = new StringBuilder("MAIL FROM:<").Append(sender).Append('>');
        if (Capabilities.EightBitMime || Capabilities.Size)
        {
            MessageScan? scan = message.CanSeek
                ? await MessageScan.ReadAsync(message, _options.MessageBufferSize, async, cancellationToken).ConfigureAwait(false)
                : null;
            if (Capabilities.EightBitMime && (scan is null || scan.Value.HasEightBit))
                mail.Append(" BODY=8BITMIME");
            if (Capabilities.Size && scan is { } known)
                mail.Append(" SIZE=").Append(known.Size.ToString(CultureInfo.InvariantCulture));
        }

        if (utf8)
            mail.Append(" SMTPUTF8");
        return mail.ToString();
    }

    /// <summary>The message in DATA's form (<see cref="DotStuffer"/>), a buffer at a time, then the final dot.</summary>
    private async ValueTask SendMessageAsync(Stream message, bool async, CancellationToken cancellationToken)
    {
        int size = _options.MessageBufferSize;
        byte[] input = ArrayPool<byte>.Shared.Rent(size);
        byte[] output = ArrayPool<byte>.Shared.Rent(DotStuffer.MaxOutput(size) + 5);
        try
        {
            var stuffer = new DotStuffer();
            while (true)
            {
                int read = async
                    ? await message.ReadAsync(input.AsMemory(0, size), cancellationToken).ConfigureAwait(false)
                    : message.Read(input, 0, size);
                if (read == 0)
                    break;
                int length = stuffer.Transform(input.AsSpan(0, read), output);
                await WriteAsync(output.AsMemory(0, length), async, cancellationToken).ConfigureAwait(false);
            }

            int end = stuffer.Finish(output);
            await WriteAsync(output.AsMemory(0, end), async, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(output);
        }
    }
}
