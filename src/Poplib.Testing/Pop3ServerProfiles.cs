namespace Poplib.Testing;

/// <summary>
/// Options that make a <see cref="Pop3TestServer"/> behave like one of the real servers Poplib's
/// interop suite runs against (its <c>docs/interop.md</c>): the greeting, what is offered, and each
/// quirk as a <see cref="Pop3Fault"/>. What the test server cannot do stays its own. Every call returns new options, to adjust before starting.
/// </summary>
public static class Pop3ServerProfiles
{
    /// <summary>Dovecot 2.3: the well-behaved one; no UTF8.</summary>
    public static Pop3TestServerOptions Dovecot() => new()
    {
        Greeting = "Dovecot (Debian) ready. " + Pop3TestServerOptions.TimestampPlaceholder,
        Implementation = "Dovecot",
        Faults = [new CommandNotSupported("UTF8")],
    };

    /// <summary>popa3d 1.0: bare <c>+OK</c>/<c>-ERR</c>, no CAPA, AUTH, APOP or TLS, mbox quoting left in, replies in two segments.</summary>
    public static Pop3TestServerOptions Popa3d() => new()
    {
        Tls = Pop3TlsMode.None,
        Greeting = "",
        Faults =
        [
            new BareStatusLines(), new CommandNotSupported("CAPA"), new CommandNotSupported("AUTH"), new CommandNotSupported("UTF8"),
            new QuotedFromLines(), new SplitReplies(),
        ],
    };

    /// <summary>
    /// GNU Mailutils pop3d 3.15: APOP but no SASL, one CAPA list for every state (EXPIRENEVER, USER and
    /// STLS after login), X-UIDL added once UIDL has told a message's id, TOP's extra empty line, bare
    /// <c>+OK</c> for RETR and TOP, replies in two segments.
    /// </summary>
    public static Pop3TestServerOptions GnuMailutils() => new()
    {
        Greeting = "POP3 Ready " + Pop3TestServerOptions.TimestampPlaceholder,
        Implementation = "GNU Mailutils 3.15",
        Faults =
        [
            new CapabilityLines(["TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "EXPIRENEVER", "USER", "STLS"]),
            new CommandNotSupported("AUTH"), new CommandNotSupported("UTF8"), new XUidlHeader(), new TopExtraBlankLine(),
            new SuccessLine("RETR", "+OK"), new SuccessLine("TOP", "+OK"), new SplitReplies(),
        ],
    };

    /// <summary>
    /// Courier 1.0: no APOP timestamp, one CAPA list for every state (SASL and STLS after login), UTF8,
    /// whatever was sent behind a successful login dropped, replies in two segments. (Its failing STLS
    /// is <see cref="StlsFailsAfterOk"/>, to add when wanted.)
    /// </summary>
    public static Pop3TestServerOptions Courier() => new()
    {
        Greeting = "Hello there.",
        Implementation = "Courier Mail Server",
        Faults =
        [
            new CapabilityLines(["SASL PLAIN", "STLS", "TOP", "USER", "LOGIN-DELAY 10", "PIPELINING", "UIDL", "UTF8 USER", "IMPLEMENTATION Courier Mail Server"]),
            new DiscardInputAfterLogin(), new SuccessLine("TOP", "+OK headers follow."), new SplitReplies(),
        ],
    };

    /// <summary>Cyrus pop3d 3.6: a SESSIONID in the login reply, <c>+OK Message follows</c> for RETR and TOP, no UTF8, replies in two segments.</summary>
    public static Pop3TestServerOptions Cyrus() => new()
    {
        Greeting = "localhost Cyrus POP3 3.6.1 server ready " + Pop3TestServerOptions.TimestampPlaceholder,
        Implementation = "Cyrus POP3 3.6.1",
        Faults =
        [
            new SuccessLine("PASS", CyrusLogin), new SuccessLine("APOP", CyrusLogin), new SuccessLine("AUTH", CyrusLogin),
            new SuccessLine("RETR", "+OK Message follows"), new SuccessLine("TOP", "+OK Message follows"),
            new CommandNotSupported("UTF8"), new SplitReplies(),
        ],
    };

    /// <summary>
    /// solid-pop3d 0.15: APOP, no CAPA, AUTH or TLS, <c>+OK </c> (a trailing space) for TOP, numbers that
    /// change between sessions, the connection closed after the fifth wrong command, replies in two segments.
    /// </summary>
    public static Pop3TestServerOptions SolidPop3d() => new()
    {
        Tls = Pop3TlsMode.None,
        Greeting = "Solid POP3 server ready " + Pop3TestServerOptions.TimestampPlaceholder,
        Faults =
        [
            new CommandNotSupported("CAPA"), new CommandNotSupported("AUTH"), new CommandNotSupported("UTF8"),
            new SuccessLine("TOP", "+OK "), new ShuffledNumbers(1), new DisconnectAfterErrors(5), new SplitReplies(),
        ],
    };

    /// <summary>
    /// Exchange Online (Microsoft 365), as Microsoft documents POP with OAuth ("Authenticate an IMAP, POP
    /// or SMTP connection using OAuth"): implicit TLS, <c>SASL PLAIN XOAUTH2</c>, and only the two-step
    /// <c>AUTH XOAUTH2</c> / <c>+ </c> / token: an initial response on the AUTH line ends the
    /// connection (<see cref="Pop3InitialResponse.RefusedClosingConnection"/>), a refused token is a plain
    /// <c>-ERR</c>. Set <see cref="Pop3TestServerOptions.AccessTokenValidator"/> before starting.
    /// PLAIN and USER stay listed, as Microsoft lists them, and here they still take the users'
    /// passwords, which Exchange Online no longer does.
    /// </summary>
    public static Pop3TestServerOptions Microsoft365() => new()
    {
        Tls = Pop3TlsMode.Implicit,
        Greeting = "The Microsoft Exchange POP3 service is ready. [UABPAFAATABJAEIA]",
        SaslMechanisms = Pop3SaslMechanisms.Plain | Pop3SaslMechanisms.XOAuth2,
        OAuthInitialResponse = Pop3InitialResponse.RefusedClosingConnection,
        OAuthErrorChallenge = false,
        OAuthScope = "https://outlook.office.com/POP.AccessAsUser.All",
        Faults = [new CapabilityLines(["TOP", "UIDL", "SASL PLAIN XOAUTH2", "USER"]), new CommandNotSupported("UTF8")],
    };

    /// <summary>
    /// Gmail's pop.gmail.com: implicit TLS, <c>SASL PLAIN XOAUTH2 OAUTHBEARER</c>, initial responses and
    /// the two-step form both taken, a refused token answered with Google's JSON error challenge
    /// (<c>{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}</c>) before the <c>-ERR</c>.
    /// Set <see cref="Pop3TestServerOptions.AccessTokenValidator"/> before starting.
    /// </summary>
    public static Pop3TestServerOptions Gmail() => new()
    {
        Tls = Pop3TlsMode.Implicit,
        Greeting = "Gpop ready for requests from 127.0.0.1 poplib-testing",
        SaslMechanisms = Pop3SaslMechanisms.Plain | Pop3SaslMechanisms.XOAuth2 | Pop3SaslMechanisms.OAuthBearer,
        OAuthScope = "https://mail.google.com/",
        Faults =
        [
            new CapabilityLines(["USER", "RESP-CODES", "EXPIRE 0", "LOGIN-DELAY 300", "TOP", "UIDL", "X-GOOGLE-RICO", "SASL PLAIN XOAUTH2 OAUTHBEARER"]),
            new CommandNotSupported("UTF8"),
        ],
    };

    private const string CyrusLogin = "+OK Mailbox locked and ready SESSIONID=<poplib-testing-1-1-1>";
}
