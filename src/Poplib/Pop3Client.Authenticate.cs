using Poplib.Commands;
using Poplib.Diagnostics;

namespace Poplib;

public sealed partial class Pop3Client
{
    /// <summary>Sends USER (poplib's <c>user</c>); the server then expects <see cref="Pass"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty or contains CR, LF or NUL.</exception>
    public Pop3Response User(string userName) => RunSync(UserCoreAsync(userName, async: false, CancellationToken.None));

    /// <inheritdoc cref="User"/>
    public Task<Pop3Response> UserAsync(string userName, CancellationToken cancellationToken = default) =>
        UserCoreAsync(userName, async: true, cancellationToken).AsTask();

    /// <summary>
    /// Sends PASS (poplib's <c>pass_</c>); on success the session is authenticated and the mailbox
    /// locked until <see cref="Quit"/>. Refused before sending when the connection is not encrypted,
    /// unless <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/> is set.
    /// </summary>
    /// <exception cref="Pop3AuthenticationException">The connection is not encrypted and insecure authentication is not allowed.</exception>
    /// <exception cref="Pop3CommandException">The server refused the password (see <see cref="Pop3CommandException.ResponseCode"/>).</exception>
    public Pop3Response Pass(string password) => RunSync(PassCoreAsync(password, async: false, CancellationToken.None));

    /// <inheritdoc cref="Pass"/>
    public Task<Pop3Response> PassAsync(string password, CancellationToken cancellationToken = default) =>
        PassCoreAsync(password, async: true, cancellationToken).AsTask();

    /// <summary>
    /// Logs in with USER and PASS as one step. When the server offers PIPELINING (RFC 2449) and either
    /// lists USER or the connection is encrypted, both commands go out in one write and the login
    /// costs one round trip instead of two; otherwise it is <see cref="User"/> then <see cref="Pass"/>.
    /// Refused before anything is sent when the connection is not encrypted, unless
    /// <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/> is set.
    /// </summary>
    /// <exception cref="Pop3AuthenticationException">The connection is not encrypted and insecure authentication is not allowed; nothing was sent.</exception>
    /// <exception cref="Pop3CommandException">The server refused the user name (<c>USER</c>) or the password (<c>PASS</c>): <see cref="Pop3CommandException.Command"/> says which.</exception>
    public Pop3Response LoginUserPass(string userName, string password) =>
        RunSync(LoginUserPassCoreAsync(userName, password, async: false, CancellationToken.None));

    /// <inheritdoc cref="LoginUserPass"/>
    public Task<Pop3Response> LoginUserPassAsync(string userName, string password, CancellationToken cancellationToken = default) =>
        LoginUserPassCoreAsync(userName, password, async: true, cancellationToken).AsTask();

    /// <summary>
    /// Logs in with APOP (RFC 1939 section 7): sends the MD5 digest of the greeting's timestamp and the
    /// secret, never the secret itself — but a digest an eavesdropper can attack offline, so on an
    /// unencrypted connection it is refused unless <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/> is set.
    /// </summary>
    /// <exception cref="Pop3AuthenticationException">The connection is not encrypted and insecure authentication is not allowed; nothing was sent.</exception>
    /// <exception cref="NotSupportedException">
    /// The greeting carried no timestamp (the server offers no APOP), or one that is not an RFC 5322
    /// msg-id <c>&lt;…@…&gt;</c>: hashing a timestamp the server may choose freely can give the password
    /// away (CVE-2007-1558), so it is refused, as fetchmail and mpop do. Nothing was sent.
    /// </exception>
    public Pop3Response Apop(string userName, string secret) => RunSync(ApopCoreAsync(userName, secret, async: false, CancellationToken.None));

    /// <inheritdoc cref="Apop"/>
    public Task<Pop3Response> ApopAsync(string userName, string secret, CancellationToken cancellationToken = default) =>
        ApopCoreAsync(userName, secret, async: true, cancellationToken).AsTask();

    /// <summary>
    /// Sends RPOP (RFC 1081, obsolete; poplib's <c>rpop</c>): the server trusts the client host, as
    /// the UNIX r-commands do, and <paramref name="userName"/> names the user on the client side.
    /// Call after <see cref="User"/>.
    /// </summary>
    public Pop3Response Rpop(string userName) => RunSync(RpopCoreAsync(userName, async: false, CancellationToken.None));

    /// <inheritdoc cref="Rpop"/>
    public Task<Pop3Response> RpopAsync(string userName, CancellationToken cancellationToken = default) =>
        RpopCoreAsync(userName, async: true, cancellationToken).AsTask();

    private async ValueTask<Pop3Response> UserCoreAsync(string userName, bool async, CancellationToken cancellationToken)
    {
        Pop3Command.ValidateArgument(userName, nameof(userName));
        using CommandScope scope = Begin("USER", Pop3SessionState.Authorization);
        return await _connection.ExecuteAsync(Pop3Command.Create("USER", userName), async, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<Pop3Response> PassCoreAsync(string password, bool async, CancellationToken cancellationToken)
    {
        Pop3Command.ValidateArgument(password, nameof(password));
        ThrowIfInsecureLogin("PASS");
        using (Begin("PASS", Pop3SessionState.Authorization))
        {
            return await LogInAsync(Pop3Command.CreateSecret("PASS", password), "USER/PASS", async, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<Pop3Response> LoginUserPassCoreAsync(string userName, string password, bool async, CancellationToken cancellationToken)
    {
        Pop3Command.ValidateArgument(userName, nameof(userName));
        Pop3Command.ValidateArgument(password, nameof(password));
        ThrowIfInsecureLogin("USER/PASS");
        if (!CanPipelineUserPass)
        {
            await UserCoreAsync(userName, async, cancellationToken).ConfigureAwait(false);
            return await PassCoreAsync(password, async, cancellationToken).ConfigureAwait(false);
        }

        using (Begin("USER", Pop3SessionState.Authorization))
        {
            _connection.Enqueue(Pop3Command.Create("USER", userName));
            _connection.Enqueue(Pop3Command.CreateSecret("PASS", password));
            await _connection.FlushAsync(async, cancellationToken).ConfigureAwait(false);
            Pop3Response user = await _connection.ReadResponseAsync(async, cancellationToken).ConfigureAwait(false);
            Pop3Response pass = await _connection.ReadResponseAsync(async, cancellationToken).ConfigureAwait(false);
            if (!user.IsOk)
            {
                // The session must be where the server's replies put it: a PASS accepted without a user is not a login to trust.
                throw pass.IsOk
                    ? _connection.Fail("The server refused USER but accepted the PASS sent behind it; the connection is closed.")
                    : new Pop3CommandException("USER", user);
            }

            if (!pass.IsOk)
                throw new Pop3CommandException("PASS", pass);
            return await OnAuthenticatedAsync(pass, "USER/PASS", async, cancellationToken).ConfigureAwait(false);
        }
    }

    // PASS may ride behind USER only where the server pipelines. On a link an eavesdropper can read,
    // the server must also list USER: were it to refuse USER there (to push clients to TLS), the
    // password would already have crossed the link that the refusal was meant to keep it off.
    private bool CanPipelineUserPass => Capabilities.Pipelining && (Capabilities.User || _connection.IsEncrypted);

    private async ValueTask<Pop3Response> ApopCoreAsync(string userName, string secret, bool async, CancellationToken cancellationToken)
    {
        Pop3Command.ValidateArgument(userName, nameof(userName));
        ArgumentException.ThrowIfNullOrEmpty(secret);
        string timestamp = ApopTimestamp ?? throw new NotSupportedException(
            $"APOP is not available: {ApopUnavailableReason()}. Use another method, over TLS.");
        ThrowIfInsecureLogin("APOP");
        string digest = ApopDigest.Compute(timestamp, secret);
        using (Begin("APOP", Pop3SessionState.Authorization))
        {
            return await LogInAsync(Pop3Command.CreateWithSecondSecret("APOP", userName, digest), "APOP", async, cancellationToken).ConfigureAwait(false);
        }
    }

    // Why ApopTimestamp is null, for the errors that say so; the timestamp is the server's text.
    private string ApopUnavailableReason() => ApopDigest.FindCandidate(Greeting.Line) is { } malformed
        ? $"the greeting's timestamp {ServerText.Escape(malformed)} is not an RFC 5322 msg-id (<...@...>), and a digest of a timestamp the server may choose freely can give the password away (CVE-2007-1558)"
        : "the greeting carries no timestamp (<...@...>), so the server does not offer APOP";

    private async ValueTask<Pop3Response> RpopCoreAsync(string userName, bool async, CancellationToken cancellationToken)
    {
        Pop3Command.ValidateArgument(userName, nameof(userName));
        using (Begin("RPOP", Pop3SessionState.Authorization))
        {
            return await LogInAsync(Pop3Command.Create("RPOP", userName), "RPOP", async, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Refuses, before anything is sent, a login on an unencrypted connection unless the caller opted
    /// in. Every method that uses a password gives an eavesdropper either the password (PASS, PLAIN,
    /// LOGIN) or what to crack it from offline (APOP, CRAM-MD5, SCRAM); RFC 8314 says: use TLS.
    /// </summary>
    private void ThrowIfInsecureLogin(string method)
    {
        if (!_connection.IsEncrypted && !_options.AllowInsecureAuthentication)
        {
            throw new Pop3AuthenticationException(
                $"Refusing to log in with {method} over a connection that is not encrypted: an eavesdropper would see the password, " +
                $"or enough to crack it offline. Connect with ConnectSsl, or call Stls() first{(Capabilities.Stls ? " (the server offers STLS)" : "")}; " +
                "to log in without encryption anyway, set Pop3ClientOptions.AllowInsecureAuthentication = true.",
                null, Pop3AuthenticationFailure.InsecureConnection);
        }
    }

    /// <summary>
    /// Sends a one-command login (PASS, APOP, RPOP) and waits for its reply before anything else goes
    /// out. Never pipelined, even when the server offers PIPELINING: Courier hands the connection
    /// from its login process to the mailbox process after a successful login, and whatever the
    /// client had sent behind the login command (a CAPA, say) is lost — the client would wait for
    /// its reply until the timeout. The same holds for AUTH's last response (see ExchangeAsync).
    /// </summary>
    private async ValueTask<Pop3Response> LogInAsync(Pop3Command login, string method, bool async, CancellationToken cancellationToken)
    {
        Pop3Response response = await _connection.ExecuteAsync(login, async, cancellationToken).ConfigureAwait(false);
        return await OnAuthenticatedAsync(response, method, async, cancellationToken).ConfigureAwait(false);
    }

    // Servers change what they offer after login (Gmail adds PIPELINING, others drop USER and SASL),
    // so the capabilities are read again — only now, after the login's reply (see LogInAsync).
    private async ValueTask<Pop3Response> OnAuthenticatedAsync(Pop3Response response, string method, bool async, CancellationToken cancellationToken)
    {
        _state = Pop3SessionState.Transaction;
        AuthenticationMethod = method;
        if (_options.QueryCapabilities && Capabilities.IsSupported)
            await ReadCapabilitiesAsync(async, cancellationToken).ConfigureAwait(false);
        return response;
    }
}
