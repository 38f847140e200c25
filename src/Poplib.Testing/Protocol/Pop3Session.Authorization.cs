namespace Poplib.Testing.Protocol;

/// <summary>The AUTHORIZATION state: CAPA, STLS, UTF8 and the ways to log in.</summary>
internal sealed partial class Pop3Session
{
    private const string PlaintextRefused = "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.";
    private const string AuthenticationFailed = "-ERR [AUTH] Authentication failed.";

    private string? _pendingUser;
    private Pop3TestUser? _user;
    private Maildrop? _maildrop;

    private bool PlaintextAllowed => IsEncrypted || _options.AllowPlaintextWithoutTls;

    private async ValueTask CapaAsync(Pop3Request request)
    {
        await _writer.LineAsync("+OK Capability list follows").ConfigureAwait(false);
        foreach (string line in _faults.ShapeCapabilities(Capabilities.For(_options, _state == SessionState.Transaction, IsEncrypted)))
            await _writer.LineAsync(line).ConfigureAwait(false);
        await _writer.LineAsync(".").ConfigureAwait(false);
    }

    private ValueTask UserAsync(Pop3Request request)
    {
        if (!PlaintextAllowed)
            return _writer.LineAsync(PlaintextRefused);
        if (request.Argument.Length == 0)
            return _writer.LineAsync("-ERR USER needs a user name.");
        _pendingUser = request.Argument;
        return _writer.LineAsync("+OK");
    }

    private ValueTask PassAsync(Pop3Request request)
    {
        if (!PlaintextAllowed)
            return _writer.LineAsync(PlaintextRefused);
        if (_pendingUser is not { } name)
            return _writer.LineAsync("-ERR USER first.");
        _pendingUser = null;
        string password = request.Argument;
        return LogInAsync(name, user => user.Password == password);
    }

    private ValueTask ApopAsync(Pop3Request request)
    {
        if (_apopTimestamp is not { } timestamp)
            return _writer.LineAsync("-ERR APOP is not available: the greeting carries no timestamp.");
        if (request.Arguments is not [string name, string digest])
            return _writer.LineAsync("-ERR APOP needs a user name and a digest.");
        return LogInAsync(name, user => ApopTimestamp.Verify(timestamp, user.Password, digest));
    }

    private async ValueTask AuthAsync(Pop3Request request)
    {
        if (request.Arguments.Length == 0)
        {
            // The mechanism listing of RFC 1734, which some clients still ask for.
            await _writer.LineAsync("+OK").ConfigureAwait(false);
            foreach (string offered in Capabilities.SaslNames(_options, PlaintextAllowed))
                await _writer.LineAsync(offered).ConfigureAwait(false);
            await _writer.LineAsync(".").ConfigureAwait(false);
            return;
        }

        string mechanism = request.Arguments[0].ToUpperInvariant();
        if (mechanism is "NTLM" or "GSSAPI" && Capabilities.SaslNames(_options, PlaintextAllowed).Contains(mechanism))
        {
            await AuthNegotiateAsync(request, mechanism == "GSSAPI").ConfigureAwait(false);
            return;
        }

        if (mechanism is "XOAUTH2" or "OAUTHBEARER" && Capabilities.SaslNames(_options, PlaintextAllowed).Contains(mechanism))
        {
            await AuthOAuthAsync(request, mechanism).ConfigureAwait(false);
            return;
        }

        if (mechanism != "PLAIN" || !_options.SaslMechanisms.HasFlag(Pop3SaslMechanisms.Plain))
        {
            await _writer.LineAsync("-ERR Unsupported authentication mechanism.").ConfigureAwait(false);
            return;
        }

        if (!PlaintextAllowed)
        {
            await _writer.LineAsync(PlaintextRefused).ConfigureAwait(false);
            return;
        }

        string? response = request.Arguments.Length > 1 ? request.Arguments[1] : await ReadSaslResponseAsync().ConfigureAwait(false);
        if (response is null)
            return;
        if (response == "*")
        {
            await _writer.LineAsync("-ERR Authentication cancelled.").ConfigureAwait(false);
            return;
        }

        if (!SaslPlainMessage.TryParse(response, out string authorizationId, out string name, out string password))
        {
            await _writer.LineAsync("-ERR [AUTH] Invalid SASL PLAIN response.").ConfigureAwait(false);
            return;
        }

        // Acting as another user is not supported: only the empty or the same authorization id.
        if (authorizationId.Length > 0 && authorizationId != name)
        {
            await _writer.LineAsync(AuthenticationFailed).ConfigureAwait(false);
            return;
        }

        await LogInAsync(name, user => user.Password == password).ConfigureAwait(false);
    }

    // RFC 5034: a challenge ("+ " and base64, empty at first), then the client's base64 response on a line of its own.
    private async ValueTask<string?> ReadSaslResponseAsync(string challenge = "")
    {
        await _writer.LineAsync("+ " + challenge).ConfigureAwait(false);
        await _writer.FlushAsync().ConfigureAwait(false);
        return await ReadLineAsync().ConfigureAwait(false) is { } line ? line.Text.Trim() : null;
    }

    private async ValueTask StlsAsync(Pop3Request request)
    {
        if (_options.Tls != Pop3TlsMode.StartTls || IsEncrypted)
        {
            await _writer.LineAsync(IsEncrypted ? "-ERR The connection is already encrypted." : "-ERR STLS is not offered.").ConfigureAwait(false);
            return;
        }

        await _writer.LineAsync("+OK Begin TLS negotiation now.").ConfigureAwait(false);
        await _writer.FlushAsync().ConfigureAwait(false);
        _reader.DiscardBufferedInput();
        if (_faults.HandshakeRefusal is { } refusal)
        {
            // Courier when its TLS helper cannot go on: the ClientHello read, an alert, then plain text again.
            await _reader.SkipTlsRecordAsync(_options.HandshakeTimeout, _shutdown).ConfigureAwait(false);
            await _writer.WriteAsync(refusal.Alert).ConfigureAwait(false);
            await _writer.FlushAsync().ConfigureAwait(false);
            await _writer.LineAsync(refusal.Line).ConfigureAwait(false);
            return;
        }

        await StartTlsAsync().ConfigureAwait(false);
        _pendingUser = null; // nothing learnt before TLS counts after it
    }

    private ValueTask Utf8Async(Pop3Request request)
    {
        _utf8 = true;
        return _writer.LineAsync("+OK UTF8 enabled.");
    }

    /// <summary>Checks the credentials, takes the mailbox lock and opens the maildrop: the move to TRANSACTION.</summary>
    private async ValueTask LogInAsync(string name, Func<Pop3TestUser, bool> verify)
    {
        if (_server.FindUser(name) is not { } user || !verify(user))
        {
            await _writer.LineAsync(AuthenticationFailed).ConfigureAwait(false);
            return;
        }

        if (!_server.Locks.TryAcquire(user.Mailbox))
        {
            await _writer.LineAsync("-ERR [IN-USE] Mailbox is locked by another POP3 session.").ConfigureAwait(false);
            return;
        }

        _user = user;
        IReadOnlyList<Pop3MailboxMessage> messages;
        try
        {
            messages = await user.Mailbox.OpenAsync(_shutdown).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            ReleaseMailbox();
            await _writer.LineAsync("-ERR [SYS/TEMP] The mailbox cannot be opened: " + e.Message.ReplaceLineEndings(" ")).ConfigureAwait(false);
            return;
        }

        _maildrop = new Maildrop(_faults.ShapeMaildrop([.. messages.Select(m => new MaildropEntry(m, m.Uid, m.Size))]));
        _state = SessionState.Transaction;
        await _writer.LineAsync($"+OK Logged in: {_maildrop.LiveCount} messages ({_maildrop.LiveSize} octets).").ConfigureAwait(false);
    }

    private void ReleaseMailbox()
    {
        if (_user is not null)
            _server.Locks.Release(_user.Mailbox);
        _user = null;
    }
}
