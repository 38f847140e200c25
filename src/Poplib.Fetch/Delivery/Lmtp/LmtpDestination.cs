using System.Net.Sockets;

namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>Opens an <see cref="LmtpDestination"/> per run.</summary>
internal sealed class LmtpFetchDestination(LmtpEndpoint endpoint, IReadOnlyList<string> recipients, LmtpClientOptions options) : FetchDestination
{
    public LmtpEndpoint Endpoint { get; } = endpoint;

    public IReadOnlyList<string> Recipients { get; } = recipients;

    public override IMailDestination Open(AccountKey account) => new LmtpDestination(Endpoint, Recipients, options);

    public override string ToString() => $"lmtp:{Endpoint} ({string.Join(", ", Recipients)})";
}

/// <summary>
/// Hands each message to an LMTP server (RFC 2033): one session per run, opened at the first message
/// and kept for the next ones (opened again when the server closed it); each message is spooled
/// whole, then sent from its <c>Return-Path:</c> (or <c>&lt;&gt;</c>) to every configured recipient
/// in one transaction, and confirmed in the journal as soon as its final replies are read.
/// <list type="bullet">
/// <item>every recipient 250 → delivered;</item>
/// <item>any recipient 4xx → deferred: not recorded, stays on the server, tried again next run (the
/// recipients that answered 250 get it again then: a duplicate for them, never a loss);</item>
/// <item>every recipient 5xx → rejected: not recorded, stays on the server (offered again next run);</item>
/// <item>some 250, the others 5xx (none 4xx) → delivered, the refused recipients reported: trying
/// again would only give the others a duplicate per run.</item>
/// </list>
/// A server that cannot be reached, answers garbage, or does not answer in time stops the run with
/// <see cref="FetchFailure.Destination"/>; the message in hand is not recorded.
/// </summary>
internal sealed class LmtpDestination : SpooledDestination
{
    private readonly LmtpEndpoint _endpoint;
    private readonly IReadOnlyList<string> _recipients;
    private readonly LmtpClientOptions _options;
    private LmtpClient? _client;

    public LmtpDestination(LmtpEndpoint endpoint, IReadOnlyList<string> recipients, LmtpClientOptions options)
    {
        _endpoint = endpoint;
        _recipients = recipients;
        _options = options;
    }

    public override string Name => "lmtp:" + _endpoint;

    protected override async ValueTask<string?> DeliverAsync(StagedMessage message, CancellationToken cancellationToken)
    {
        if (_recipients.Count == 0)
            throw new FetchException(FetchFailure.Configuration, $"the LMTP destination {_endpoint} has no recipient");
        message.Location = null;
        LmtpDeliveryResult result = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (_client is { IsConnected: false } && result.Recipients.All(r => r.Reply.Code == 421))
        {
            // The server closed the session (an idle or session limit) without taking the message
            // for anyone: once more, on a new session.
            result = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        }

        if (result.AllDelivered)
            return null;
        string delivered = string.Join(", ", result.Recipients.Where(r => r.Status == LmtpRecipientStatus.Delivered).Select(r => r.Recipient));
        string failed = string.Join("; ", result.Recipients.Where(r => r.Status != LmtpRecipientStatus.Delivered).Select(r => $"{r.Recipient}: {r.Reply}"));
        if (result.AnyTemporaryFailure)
        {
            return $"the LMTP server {_endpoint} deferred message {message.Key} ({failed}); it stays on the server and is tried again next run"
                + (delivered.Length > 0 ? $" ({delivered} accepted it and will get it again then)" : "");
        }

        if (delivered.Length == 0)
            return $"the LMTP server {_endpoint} rejected message {message.Key} ({failed}); it stays on the server";

        // Some accepted, the others refused for good: delivered; retrying would only duplicate.
        Warn($"the LMTP server {_endpoint} rejected message {message.Key} for some recipients ({failed}); delivered to {delivered}");
        return null;
    }

    protected override string Interrupted(MessageKey key) =>
        $"poplib was interrupted while the LMTP server {_endpoint} had message {key}; it is fetched again (it may be delivered twice)";

    private async ValueTask<LmtpDeliveryResult> SendAsync(StagedMessage message, CancellationToken cancellationToken)
    {
        LmtpClient client = await SessionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            message.File.Flush();
            message.File.Seek(0, SeekOrigin.Begin);
            string sender = ReturnPathHeader.ReadSender(message.File);
            return await client.DeliverAsync(sender, _recipients, message.File, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsFault(e))
        {
            throw new FetchException(FetchFailure.Destination, $"delivery of message {message.Key} to the LMTP server {_endpoint} failed: {e.Message} It stays on the server.", e);
        }
    }

    private async ValueTask<LmtpClient> SessionAsync(CancellationToken cancellationToken)
    {
        if (_client is { IsConnected: true })
            return _client;
        _client?.Dispose();
        _client = null;
        try
        {
            _client = await LmtpClient.ConnectAsync(_endpoint, _options, cancellationToken).ConfigureAwait(false);
            return _client;
        }
        catch (Exception e) when (IsFault(e))
        {
            throw new FetchException(FetchFailure.Destination, $"cannot open an LMTP session with {_endpoint}: {e.Message}", e);
        }
    }

    private static bool IsFault(Exception e) => e is LmtpException or SocketException or IOException or TimeoutException;

    public override void Dispose()
    {
        if (_client is { } client)
        {
            _client = null;
            try
            {
                if (client.IsConnected)
                    client.Quit();
            }
            catch (Exception e) when (IsFault(e))
            {
                // Everything was confirmed (or not) before: a failed goodbye changes nothing.
            }
            finally
            {
                client.Dispose();
            }
        }

        base.Dispose();
    }
}
