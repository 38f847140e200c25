using Poplib.Commands;
using Poplib.Diagnostics;
using Poplib.Sasl;

namespace Poplib;

public sealed partial class Pop3Client
{
    // A real exchange has at most three challenges (SCRAM); more means a server in a loop.
    private const int MaxSaslChallenges = 16;

    // RFC 5034 section 4: an AUTH line with its initial response may be at most 255 octets.
    private const int MaxAuthLineLength = 255;

    // Login's order, strongest first (docs/library.md explains it). SCRAM proves the server knows the
    // password too and needs nothing of the machine; GSSAPI (Kerberos) proves the server too and gives
    // it nothing derived from the password, but needs a realm the machine can reach. SCRAM, GSSAPI,
    // CRAM-MD5, NTLM and APOP never send the password, PLAIN, LOGIN and PASS do. NTLM comes after
    // CRAM-MD5: both answers can be cracked offline, but an NTLM answer can also be relayed to other
    // services of the domain. Over TLS nobody else sees any of them, and PLAIN beats APOP (MD5 over a
    // timestamp the server chose); without TLS (opted in) what reveals less comes first, and NTLM,
    // relayable without TLS's channel binding, goes after APOP.
    private static readonly string[] LoginOrderEncrypted = ["SCRAM-SHA-256", "SCRAM-SHA-1", "GSSAPI", "CRAM-MD5", "NTLM", "PLAIN", "LOGIN", "APOP", "USER"];
    private static readonly string[] LoginOrderUnencrypted = ["SCRAM-SHA-256", "SCRAM-SHA-1", "GSSAPI", "CRAM-MD5", "APOP", "NTLM", "PLAIN", "LOGIN", "USER"];

    /// <summary>
    /// Authenticates with a SASL mechanism (AUTH, RFC 5034), for example
    /// <c>client.Auth(new SaslScramSha256(user, password))</c>. A mechanism that uses a secret — every
    /// built-in one: PLAIN, LOGIN and OAuth show it, CRAM-MD5 and SCRAM show what it can be cracked
    /// from — is refused on an unencrypted connection unless
    /// <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/> is set; one that declares
    /// <see cref="ISaslMechanism.UsesSecret"/> false (EXTERNAL) runs anywhere. If the mechanism gives up
    /// mid-exchange (a malformed challenge) the client cancels with <c>*</c> and the session goes on;
    /// if the server fails to prove itself (a wrong or missing SCRAM server signature, or any
    /// <see cref="SaslException.ServerNotAuthenticated"/>) the connection is closed.
    /// </summary>
    /// <exception cref="Pop3CommandException">The server refused (see <see cref="Pop3CommandException.ResponseCode"/> and, for OAuth, <see cref="Pop3CommandException.Details"/>).</exception>
    /// <exception cref="Pop3AuthenticationException">
    /// The client refused or cancelled the exchange; with <see cref="Pop3AuthenticationFailure.ServerNotAuthenticated"/>
    /// the server failed to prove itself and the connection is closed.
    /// </exception>
    public Pop3Response Auth(ISaslMechanism mechanism) => RunSync(AuthCoreAsync(mechanism, async: false, CancellationToken.None));

    /// <inheritdoc cref="Auth(ISaslMechanism)"/>
    public Task<Pop3Response> AuthAsync(ISaslMechanism mechanism, CancellationToken cancellationToken = default) =>
        AuthCoreAsync(mechanism, async: true, cancellationToken).AsTask();

    /// <summary>
    /// Logs in with the strongest method the server offers: SASL SCRAM-SHA-256, SCRAM-SHA-1 or
    /// CRAM-MD5 (the password never leaves the client), then PLAIN or LOGIN, then APOP if the greeting
    /// has a well-formed timestamp, then USER/PASS — APOP before PLAIN and LOGIN when the connection
    /// is not encrypted. On an unencrypted connection nothing is sent unless
    /// <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/> is set: every one of these methods
    /// lets an eavesdropper read the password or crack it offline. A refusal is not retried with a
    /// weaker method. Non-ASCII credentials switch on UTF-8 mode first when the server offers it.
    /// </summary>
    /// <exception cref="Pop3AuthenticationException">
    /// The connection is not encrypted and insecure authentication is not allowed
    /// (<see cref="Pop3AuthenticationFailure.InsecureConnection"/>), or the server offers no method this
    /// client supports (<see cref="Pop3AuthenticationFailure.NoSupportedMethod"/>). Nothing was sent.
    /// </exception>
    public Pop3Response Login(string userName, string password) => RunSync(LoginCoreAsync(userName, password, async: false, CancellationToken.None));

    /// <inheritdoc cref="Login(string, string)"/>
    public Task<Pop3Response> LoginAsync(string userName, string password, CancellationToken cancellationToken = default) =>
        LoginCoreAsync(userName, password, async: true, cancellationToken).AsTask();

    /// <summary>
    /// Logs in with an OAuth 2.0 access token: OAUTHBEARER (RFC 7628) if offered, else XOAUTH2 (Gmail,
    /// Outlook). Refused on an unencrypted connection unless insecure authentication is allowed.
    /// </summary>
    /// <exception cref="NotSupportedException">The server offers neither mechanism.</exception>
    /// <exception cref="Pop3CommandException">The token was refused; <see cref="Pop3CommandException.Details"/> holds the server's JSON error.</exception>
    public Pop3Response Login(string userName, OAuth2AccessToken accessToken) =>
        RunSync(LoginOAuthCoreAsync(userName, accessToken, async: false, CancellationToken.None));

    /// <inheritdoc cref="Login(string, OAuth2AccessToken)"/>
    public Task<Pop3Response> LoginAsync(string userName, OAuth2AccessToken accessToken, CancellationToken cancellationToken = default) =>
        LoginOAuthCoreAsync(userName, accessToken, async: true, cancellationToken).AsTask();

    /// <summary>
    /// Logs in with access tokens from <paramref name="accessTokens"/>: OAUTHBEARER (RFC 7628) if
    /// offered, else XOAUTH2. When the server refuses the token with <c>-ERR</c> — it expired early or
    /// was revoked — the source is told and, if it can give another, the login is tried once more on
    /// the same connection (the session is still in AUTHORIZATION). Not retried: a refusal for a reason
    /// a new token cannot fix (<c>[IN-USE]</c>, <c>[SYS/TEMP]</c>), or any failure that is not a
    /// refusal (a broken connection, an error of the token source).
    /// </summary>
    /// <exception cref="NotSupportedException">The server offers neither mechanism.</exception>
    /// <exception cref="Pop3CommandException">The server refused the token (and its replacement); <see cref="Pop3CommandException.Details"/> holds the server's JSON error.</exception>
    public Pop3Response Login(string userName, IOAuth2TokenSource accessTokens) =>
        RunSync(LoginOAuthCoreAsync(userName, accessTokens, mechanism: null, async: false, CancellationToken.None));

    /// <inheritdoc cref="Login(string, IOAuth2TokenSource)"/>
    public Task<Pop3Response> LoginAsync(string userName, IOAuth2TokenSource accessTokens, CancellationToken cancellationToken = default) =>
        LoginOAuthCoreAsync(userName, accessTokens, mechanism: null, async: true, cancellationToken).AsTask();

    /// <summary>
    /// As <see cref="Login(string, IOAuth2TokenSource)"/>, with the mechanism chosen by the caller:
    /// <c>XOAUTH2</c> or <c>OAUTHBEARER</c> (any case), for a server that offers both and handles one badly.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="mechanism"/> is neither name.</exception>
    public Pop3Response Login(string userName, IOAuth2TokenSource accessTokens, string mechanism) =>
        RunSync(LoginOAuthCoreAsync(userName, accessTokens, OAuthMechanismName(mechanism), async: false, CancellationToken.None));

    /// <inheritdoc cref="Login(string, IOAuth2TokenSource, string)"/>
    public Task<Pop3Response> LoginAsync(string userName, IOAuth2TokenSource accessTokens, string mechanism, CancellationToken cancellationToken = default) =>
        LoginOAuthCoreAsync(userName, accessTokens, OAuthMechanismName(mechanism), async: true, cancellationToken).AsTask();

    private async ValueTask<Pop3Response> AuthCoreAsync(ISaslMechanism mechanism, bool async, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mechanism);
        Pop3Command.ValidateArgument(mechanism.Name, nameof(mechanism));
        if (mechanism.Name.Contains(' ', StringComparison.Ordinal))
            throw new ArgumentException("A SASL mechanism name cannot contain spaces.", nameof(mechanism));
        if (mechanism.UsesSecret || mechanism.ExposesSecret)
            ThrowIfInsecureLogin("AUTH " + mechanism.Name);

        using (Begin("AUTH", Pop3SessionState.Authorization))
        {
            if (mechanism is SaslNegotiateMechanism negotiate)
                StartNegotiate(negotiate);
            Pop3Response response = await ExchangeAsync(mechanism, async, cancellationToken).ConfigureAwait(false);
            return await OnAuthenticatedAsync(response, "AUTH " + mechanism.Name, async, cancellationToken).ConfigureAwait(false);
        }
    }

    // NTLM and GSSAPI: the platform makes the first token before AUTH goes out, for this host and,
    // over TLS, bound to this connection; a machine that cannot (no provider, no ticket) sends nothing.
    private void StartNegotiate(SaslNegotiateMechanism mechanism)
    {
        try
        {
            mechanism.Start(Host, _connection.SslStream);
        }
        catch (SaslException e)
        {
            throw new Pop3AuthenticationException($"{e.Message} Nothing was sent.", e, Pop3AuthenticationFailure.MechanismUnavailable);
        }
    }

    /// <summary>
    /// Quirk (Exchange Online, getmail6 issue 256): an initial response on the AUTH line is answered
    /// <c>-ERR Protocol error. Connection is closed.</c> — Microsoft documents only the two-step form
    /// for POP — so with a server that greets as Microsoft Exchange it waits for the <c>+</c>, whatever its length.
    /// </summary>
    private bool RefusesInitialResponses => Greeting.Line.Contains("Microsoft Exchange", StringComparison.OrdinalIgnoreCase);

    /// <summary>Runs the AUTH exchange of RFC 5034 and returns the server's +OK.</summary>
    private async ValueTask<Pop3Response> ExchangeAsync(ISaslMechanism mechanism, bool async, CancellationToken cancellationToken)
    {
        string name = mechanism.Name;
        string? deferredInitialResponse = null;
        Pop3Command command = Pop3Command.Create("AUTH", name);
        if (mechanism.HasInitialResponse)
        {
            // Computed before anything is sent: a mechanism that rejects its input leaves no trace.
            byte[] initial;
            try
            {
                initial = mechanism.Respond(default);
            }
            catch (SaslException e)
            {
                throw new Pop3AuthenticationException($"{name}: {ServerText.Escape(e.Message)}", e, Pop3AuthenticationFailure.Cancelled);
            }

            string encoded = initial.Length == 0 ? "=" : Convert.ToBase64String(initial);
            if (!RefusesInitialResponses && "AUTH ".Length + name.Length + 1 + encoded.Length + 2 <= MaxAuthLineLength)
                command = Pop3Command.CreateWithSecondSecret("AUTH", name, encoded);
            else
                deferredInitialResponse = encoded; // sent in answer to the server's empty challenge
        }

        await _connection.SendAsync(command, async, cancellationToken).ConfigureAwait(false);
        try
        {
            for (int challenges = 0; ; challenges++)
            {
                (Pop3Response? status, string? challenge) = await _connection.ReadAuthReplyAsync(async, cancellationToken).ConfigureAwait(false);
                if (status is not null)
                    return Finish(mechanism, status);
                if (challenges == MaxSaslChallenges)
                    throw _connection.Fail($"The server sent more than {MaxSaslChallenges} {name} challenges.");

                string response;
                if (deferredInitialResponse is not null)
                {
                    response = deferredInitialResponse;
                    deferredInitialResponse = null;
                }
                else
                {
                    try
                    {
                        byte[] decoded = Convert.FromBase64String(challenge!);
                        response = Convert.ToBase64String(mechanism.Respond(decoded));
                    }
                    catch (SaslException e) when (e.ServerNotAuthenticated)
                    {
                        throw ServerNotAuthenticated(name, e);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // Whatever else made the mechanism give up — a malformed challenge, input it
                        // cannot encode, a bug in a custom mechanism — the server is waiting for a
                        // response: cancel properly so the session stays in step.
                        await CancelExchangeAsync(name, async, cancellationToken).ConfigureAwait(false);
                        // A mechanism's message may quote the challenge, which the server chose.
                        throw new Pop3AuthenticationException($"The client cancelled {name} authentication: {ServerText.Escape(e.Message)}", e, Pop3AuthenticationFailure.Cancelled);
                    }
                }

                // Sent alone, and the reply awaited: the last response ends the AUTHORIZATION state,
                // and a command behind it could be lost (Courier; see LogInAsync).
                await _connection.SendAsync(Pop3Command.SaslResponse(response), async, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not (Pop3Exception or ArgumentException) && _connection.IsOpen)
        {
            // Interrupted mid-exchange (cancellation, say): the server still expects a response, so
            // anything sent next would be taken as one. The session cannot be trusted: close it.
            _connection.Abandon($"an AUTH {name} exchange was interrupted ({e.GetType().Name})");
            throw;
        }
    }

    private Pop3Response Finish(ISaslMechanism mechanism, Pop3Response status)
    {
        if (!status.IsOk)
        {
            throw new Pop3CommandException("AUTH " + mechanism.Name, status)
            {
                Details = (mechanism as SaslOAuthMechanism)?.ErrorJson,
            };
        }

        try
        {
            mechanism.Complete();
        }
        catch (SaslException e)
        {
            // The server let us in without proving who it is.
            throw ServerNotAuthenticated(mechanism.Name, e);
        }

        return status;
    }

    // The server failed to prove who it is (a wrong SCRAM signature, say): it may be an impostor, so
    // nothing it says is believed and nothing more is said to it, not even "*": the connection is closed.
    private Pop3AuthenticationException ServerNotAuthenticated(string name, SaslException e)
    {
        string reason = ServerText.Escape(e.Message);
        _connection.Fail($"The server failed to authenticate itself in {name}: {reason}");
        return new Pop3AuthenticationException($"{name}: {reason} The connection is closed.", e, Pop3AuthenticationFailure.ServerNotAuthenticated);
    }

    // RFC 5034: "*" cancels; the server must answer -ERR and the session stays in AUTHORIZATION.
    private async ValueTask CancelExchangeAsync(string name, bool async, CancellationToken cancellationToken)
    {
        await _connection.SendAsync(Pop3Command.SaslResponse("*"), async, cancellationToken).ConfigureAwait(false);
        (Pop3Response? status, _) = await _connection.ReadAuthReplyAsync(async, cancellationToken).ConfigureAwait(false);
        if (status is not { IsOk: false })
            throw _connection.Fail($"The server did not end the {name} exchange with -ERR after the client cancelled it.");
    }

    private async ValueTask<Pop3Response> LoginCoreAsync(string userName, string password, bool async, CancellationToken cancellationToken)
    {
        Pop3Command.ValidateArgument(userName, nameof(userName));
        Pop3Command.ValidateArgument(password, nameof(password));
        IReadOnlyList<string> offered = Capabilities.SaslMechanisms;
        string[] methods = (_connection.IsEncrypted ? LoginOrderEncrypted : LoginOrderUnencrypted).Where(name => name switch
        {
            "APOP" => ApopTimestamp is not null,
            "USER" => Capabilities.User || !Capabilities.IsSupported,
            _ => offered.Contains(name, StringComparer.Ordinal),
        }).ToArray();
        if (methods.Length == 0)
        {
            throw new Pop3AuthenticationException(
                $"The server offers no login method this client supports (SASL: {ServerText.Escape(string.Join(' ', offered))}; no USER; no APOP: {ApopUnavailableReason()}).",
                null, Pop3AuthenticationFailure.NoSupportedMethod);
        }

        // Chosen first, refused second: the error names what would have been sent, as AuthenticationMethod would.
        ThrowIfInsecureLogin(LoginMethodName(methods[0]));
        for (int i = 0; ; i++)
        {
            string method = methods[i];
            if (method is "GSSAPI" or "NTLM")
            {
                // The platform may be unable to run these (no Kerberos realm, no NTLM provider): nothing is
                // sent then, and the next method is what Login would have chosen had the server not offered it.
                using SaslNegotiateMechanism negotiate = method == "GSSAPI" ? new SaslGssapi(userName, password) : new SaslNtlm(userName, password);
                try
                {
                    return await AuthCoreAsync(negotiate, async, cancellationToken).ConfigureAwait(false);
                }
                catch (Pop3AuthenticationException e) when (e.Reason == Pop3AuthenticationFailure.MechanismUnavailable && i + 1 < methods.Length)
                {
                    if (_options.Logger is { } logger)
                        Log.MechanismUnavailable(logger, method, e.Message);
                    continue;
                }
            }

            if (method is not ("APOP" or "USER"))
            {
                ISaslMechanism mechanism = method switch
                {
                    "SCRAM-SHA-256" => new SaslScramSha256(userName, password),
                    "SCRAM-SHA-1" => new SaslScramSha1(userName, password),
                    "CRAM-MD5" => new SaslCramMd5(userName, password),
                    "PLAIN" => new SaslPlain(userName, password),
                    _ => new SaslLogin(userName, password),
                };
                return await AuthCoreAsync(mechanism, async, cancellationToken).ConfigureAwait(false);
            }

            return await LoginWithCommandsAsync(method, userName, password, async, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string LoginMethodName(string method) => method switch { "APOP" => "APOP", "USER" => "USER/PASS", _ => "AUTH " + method };

    private async ValueTask<Pop3Response> LoginWithCommandsAsync(string method, string userName, string password, bool async, CancellationToken cancellationToken)
    {
        // USER, PASS and APOP carry the credentials as command arguments: non-ASCII needs UTF8 mode.
        bool needsUtf8 = !System.Text.Ascii.IsValid(userName) || !System.Text.Ascii.IsValid(password);
        if (needsUtf8 && !IsUtf8 && Capabilities.Utf8)
            await Utf8CoreAsync(async, cancellationToken).ConfigureAwait(false);

        return method == "APOP"
            ? await ApopCoreAsync(userName, password, async, cancellationToken).ConfigureAwait(false)
            : await LoginUserPassCoreAsync(userName, password, async, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<Pop3Response> LoginOAuthCoreAsync(string userName, OAuth2AccessToken accessToken, bool async, CancellationToken cancellationToken) =>
        await AuthCoreAsync(OAuthMechanism(userName, accessToken, mechanism: null), async, cancellationToken).ConfigureAwait(false);

    private async ValueTask<Pop3Response> LoginOAuthCoreAsync(string userName, IOAuth2TokenSource accessTokens, string? mechanism, bool async, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(accessTokens);
        Pop3Command.ValidateArgument(userName, nameof(userName));
        OAuth2AccessToken token = async
            ? await accessTokens.GetAccessTokenAsync(cancellationToken).ConfigureAwait(false)
            : accessTokens.GetAccessToken(cancellationToken);
        try
        {
            return await AuthCoreAsync(OAuthMechanism(userName, token, mechanism), async, cancellationToken).ConfigureAwait(false);
        }
        catch (Pop3CommandException refused) when (IsWorthAFreshToken(refused))
        {
            if (!accessTokens.Invalidate(token))
                throw;
        }

        // Once only: a second refusal means the account, not the token, is the problem.
        OAuth2AccessToken fresh = async
            ? await accessTokens.GetAccessTokenAsync(cancellationToken).ConfigureAwait(false)
            : accessTokens.GetAccessToken(cancellationToken);
        return await AuthCoreAsync(OAuthMechanism(userName, fresh, mechanism), async, cancellationToken).ConfigureAwait(false);
    }

    // A plain -ERR to AUTH leaves the session in AUTHORIZATION (RFC 5034), so another AUTH may follow on
    // the same connection. RFC 3206's IN-USE and SYS/TEMP say the credentials were fine: a new token would not help.
    private bool IsWorthAFreshToken(Pop3CommandException refused) =>
        IsConnected && _state == Pop3SessionState.Authorization
        && refused.ResponseCode is not (Pop3ResponseCode.InUse or Pop3ResponseCode.SysTemp);

    private SaslOAuthMechanism OAuthMechanism(string userName, OAuth2AccessToken accessToken, string? mechanism)
    {
        ArgumentException.ThrowIfNullOrEmpty(accessToken.Value, nameof(accessToken));
        IReadOnlyList<string> offered = Capabilities.SaslMechanisms;
        string name = mechanism
            ?? (offered.Contains("OAUTHBEARER") ? "OAUTHBEARER"
            : offered.Contains("XOAUTH2") ? "XOAUTH2"
            : throw new NotSupportedException($"The server offers neither OAUTHBEARER nor XOAUTH2 (SASL: {ServerText.Escape(string.Join(' ', offered))})."));
        return name == "OAUTHBEARER" ? new SaslOAuthBearer(userName, accessToken.Value, Host, Port) : new SaslXOAuth2(userName, accessToken.Value);
    }

    private static string OAuthMechanismName(string mechanism)
    {
        ArgumentNullException.ThrowIfNull(mechanism);
        return mechanism.ToUpperInvariant() is "XOAUTH2" or "OAUTHBEARER"
            ? mechanism.ToUpperInvariant()
            : throw new ArgumentException($"'{mechanism}' is not an OAuth 2.0 mechanism: use XOAUTH2 or OAUTHBEARER.", nameof(mechanism));
    }
}
