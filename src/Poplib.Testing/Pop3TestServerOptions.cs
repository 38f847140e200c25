using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Poplib.Testing;

/// <summary>
/// How a <see cref="Pop3TestServer"/> listens, what it offers and what it tolerates. The server copies
/// the options when it starts; changing them afterwards has no effect (except through
/// <see cref="Pop3TestServer.Faults"/>).
/// </summary>
public sealed class Pop3TestServerOptions
{
    /// <summary>The placeholder in <see cref="Greeting"/> that is replaced by a fresh APOP timestamp for each connection.</summary>
    public const string TimestampPlaceholder = "{timestamp}";

    /// <summary>The address to listen on. Default <see cref="IPAddress.Loopback"/>.</summary>
    public IPAddress Address { get; set; } = IPAddress.Loopback;

    /// <summary>The TCP port to listen on; 0 (the default) picks a free port, see <see cref="Pop3TestServer.Port"/>.</summary>
    public int Port { get; set; }

    /// <summary>How TLS is offered. Default <see cref="Pop3TlsMode.StartTls"/>.</summary>
    public Pop3TlsMode Tls { get; set; } = Pop3TlsMode.StartTls;

    /// <summary>
    /// The server certificate (with its private key). When <see langword="null"/>, a self-signed
    /// certificate for CN=localhost with the SANs localhost, 127.0.0.1 and ::1 is generated (once per
    /// process) and exposed as <see cref="Pop3TestServer.Certificate"/>, so a client can trust exactly it.
    /// </summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>
    /// Accept USER/PASS and AUTH PLAIN on a connection that is not encrypted. Default on; when off they
    /// are answered <c>-ERR [AUTH] Plaintext authentication disallowed …</c> and not advertised in CAPA
    /// until TLS is up (APOP, which sends only a digest, stays allowed).
    /// </summary>
    public bool AllowPlaintextWithoutTls { get; set; } = true;

    /// <summary>
    /// The SASL mechanisms offered in CAPA and taken by AUTH. Default <see cref="Pop3SaslMechanisms.Plain"/>;
    /// NTLM and GSSAPI are checked by the platform and need its set-up (see <see cref="Pop3SaslMechanisms"/>).
    /// </summary>
    public Pop3SaslMechanisms SaslMechanisms { get; set; } = Pop3SaslMechanisms.Plain;

    /// <summary>
    /// Decides whether an OAuth 2.0 access token sent with XOAUTH2 or OAUTHBEARER opens the named
    /// user's mailbox (the user must also exist). Default <see langword="null"/>: every token is refused.
    /// <see cref="OAuth.OAuth2TestServer.ValidateAccessToken"/> plugs in here.
    /// </summary>
    public Func<string, string, bool>? AccessTokenValidator { get; set; }

    /// <summary>
    /// What the server does with an XOAUTH2/OAUTHBEARER initial response on the AUTH line (RFC 5034).
    /// Default <see cref="Pop3InitialResponse.Accepted"/>; Microsoft 365 refuses it.
    /// </summary>
    public Pop3InitialResponse OAuthInitialResponse { get; set; } = Pop3InitialResponse.Accepted;

    /// <summary>
    /// Answer a refused XOAUTH2/OAUTHBEARER token with a JSON error challenge that the client
    /// acknowledges before the <c>-ERR</c> (Gmail; RFC 7628 section 3.2.2). Default on; when off the
    /// <c>-ERR</c> comes at once, as Microsoft documents for POP.
    /// </summary>
    public bool OAuthErrorChallenge { get; set; } = true;

    /// <summary>The scope named in the JSON error of a refused token. Default <c>https://mail.google.com/</c> (Google's).</summary>
    public string OAuthScope { get; set; } = "https://mail.google.com/";

    /// <summary>The NTLM domain the server's users belong to (the first field of their <c>NTLM_USER_FILE</c> lines). Default <c>POPLIB</c>.</summary>
    public string NtlmDomain { get; set; } = "POPLIB";

    /// <summary>
    /// Require NTLM and GSSAPI exchanges over TLS to be bound to the connection (RFC 5929
    /// <c>tls-server-end-point</c>, Exchange's Extended Protection): an exchange without the binding,
    /// or bound to another connection, is refused. Default off (a binding that is sent is still checked).
    /// </summary>
    public bool RequireChannelBinding { get; set; }

    /// <summary>Misbehaviours to inject into every session, see <see cref="Pop3Fault"/>. Default none.</summary>
    public Pop3Fault[] Faults { get; set; } = [];

    /// <summary>
    /// The longest command line accepted, in octets without CRLF. A longer line is answered <c>-ERR</c>
    /// and the connection is closed. Default 8192 (RFC 2449 lets clients send 255).
    /// </summary>
    public int MaxLineLength { get; set; } = 8192;

    /// <summary>
    /// The most sessions at a time. A connection beyond it is answered
    /// <c>-ERR [SYS/TEMP] too many connections</c> and closed. Default 1000.
    /// </summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>
    /// How long the server waits for the next command (or the rest of one) before it says
    /// <c>-ERR</c> and closes the connection without entering the UPDATE state (RFC 1939's autologout).
    /// Default 10 minutes.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long one write to a client that does not read may take before the session is dropped. Default 1 minute.</summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a TLS handshake (implicit or after STLS) may take. Default 30 seconds.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The greeting's text after <c>+OK </c>. <see cref="TimestampPlaceholder"/> (<c>{timestamp}</c>) is
    /// replaced with a fresh APOP timestamp <c>&lt;pid.counter.clock@host&gt;</c> for each connection;
    /// without a timestamp the server refuses APOP, as RFC 1939 says.
    /// </summary>
    public string Greeting { get; set; } = "Poplib.Testing POP3 server ready " + TimestampPlaceholder;

    /// <summary>The host name in APOP timestamps. Default <c>localhost</c>.</summary>
    public string HostName { get; set; } = "localhost";

    /// <summary>The text of the <c>IMPLEMENTATION</c> capability (RFC 2449). Default <c>Poplib.Testing</c>.</summary>
    public string Implementation { get; set; } = "Poplib.Testing";

    internal Pop3TestServerOptions Validate()
    {
        ArgumentNullException.ThrowIfNull(Address, nameof(Address));
        ArgumentOutOfRangeException.ThrowIfNegative(Port, nameof(Port));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, IPEndPoint.MaxPort, nameof(Port));
        if (!Enum.IsDefined(Tls))
            throw new ArgumentOutOfRangeException(nameof(Tls), Tls, "Unknown TLS mode.");
        ArgumentNullException.ThrowIfNull(Faults, nameof(Faults));
        if (Faults.Any(f => f is null))
            throw new ArgumentException("A fault cannot be null.", nameof(Faults));
        foreach (Pop3Fault fault in Faults)
            fault.Validate();
        // A server must at least take the 255-octet lines RFC 2449 lets a client send.
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLineLength, 255, nameof(MaxLineLength));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxLineLength, 1024 * 1024, nameof(MaxLineLength));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConnections, nameof(MaxConnections));
        ThrowIfNotPositive(IdleTimeout, nameof(IdleTimeout));
        ThrowIfNotPositive(WriteTimeout, nameof(WriteTimeout));
        ThrowIfNotPositive(HandshakeTimeout, nameof(HandshakeTimeout));
        ThrowIfNotOneLine(Greeting, nameof(Greeting));
        ThrowIfNotOneLine(HostName, nameof(HostName));
        ThrowIfNotOneLine(Implementation, nameof(Implementation));
        if ((SaslMechanisms & ~(Pop3SaslMechanisms.Plain | Pop3SaslMechanisms.Ntlm | Pop3SaslMechanisms.Gssapi | Pop3SaslMechanisms.XOAuth2 | Pop3SaslMechanisms.OAuthBearer)) != 0)
            throw new ArgumentOutOfRangeException(nameof(SaslMechanisms), SaslMechanisms, "Unknown SASL mechanism.");
        if (!Enum.IsDefined(OAuthInitialResponse))
            throw new ArgumentOutOfRangeException(nameof(OAuthInitialResponse), OAuthInitialResponse, "Unknown initial-response handling.");
        ThrowIfNotOneLine(OAuthScope, nameof(OAuthScope));
        ArgumentException.ThrowIfNullOrEmpty(NtlmDomain, nameof(NtlmDomain));
        if (NtlmDomain.Any(c => c is ':' or '\\' or '@' or ' ' || char.IsControl(c)))
            throw new ArgumentException("An NTLM domain cannot contain ':', '\\', '@', spaces or control characters.", nameof(NtlmDomain));
        var copy = (Pop3TestServerOptions)MemberwiseClone();
        copy.Faults = [.. Faults];
        return copy;
    }

    private static void ThrowIfNotPositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(name, value, "Must be positive and at most int.MaxValue milliseconds.");
    }

    internal static void ThrowIfNotOneLine(string value, string name)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            throw new ArgumentException("Must be one line: no CR, LF or NUL.", name);
    }
}
