namespace Poplib.Testing;

/// <summary>
/// A misbehaviour of real POP3 servers, injected as data through <see cref="Pop3TestServerOptions.Faults"/>
/// or <see cref="Pop3TestServer.Faults"/>. Faults apply to every session that starts while they are
/// set; several can be combined. They only describe what goes wrong: one interpreter in the session
/// loop applies them, so the command handlers stay correct.
/// </summary>
public abstract record Pop3Fault;

/// <summary>
/// Cuts the connection after <paramref name="Bytes"/> octets of message <paramref name="Message"/>'s body
/// (as sent: CRLF and dot-stuffed) in a RETR or TOP, without the terminating <c>.</c> line — a server that
/// dies or a network that breaks mid-message.
/// </summary>
/// <param name="Message">The message number (1-based).</param>
/// <param name="Bytes">How many body octets go out before the cut; 0 cuts right after the status line.</param>
public sealed record DisconnectAfterBytes(int Message, long Bytes) : Pop3Fault;

/// <summary>Waits <paramref name="Delay"/> before every reply (the greeting included): a slow or overloaded server.</summary>
public sealed record DelayReplies(TimeSpan Delay) : Pop3Fault;

/// <summary>
/// Answers <paramref name="Command"/> (a verb such as <c>STAT</c>, case-insensitive) with a single
/// <c>+OK</c> status line of <paramref name="Length"/> octets instead of the real reply: a server that
/// floods the client.
/// </summary>
public sealed record OverlongReply(string Command, int Length) : Pop3Fault;

/// <summary>Ends every line the server sends — status lines, listings, message bodies — with a bare LF instead of CRLF.</summary>
public sealed record BareLineFeeds() : Pop3Fault;

/// <summary>
/// Reports every message's size (in LIST and STAT) <paramref name="Delta"/> octets off, while RETR still
/// sends the right bytes — like servers that count LF-stored messages without their CRs.
/// </summary>
public sealed record WrongListSizes(long Delta) : Pop3Fault;

/// <summary>Answers <paramref name="Command"/> (a verb, case-insensitive) with <c>-ERR</c> and leaves it out of CAPA: a server without TOP or UIDL.</summary>
public sealed record CommandNotSupported(string Command) : Pop3Fault;

/// <summary>
/// Commits DELEs when the connection drops without QUIT, as QPOP and some others do (RFC 1939 says the
/// server must not).
/// </summary>
public sealed record DeleteOnDisconnect() : Pop3Fault;

/// <summary>
/// Gives each even-numbered message the UID of the message before it (2 shares 1's, 4 shares 3's …),
/// as servers with broken UID generation do.
/// </summary>
public sealed record DuplicateUidls() : Pop3Fault;

/// <summary>Answers every login (PASS, APOP, AUTH) with <c>-ERR [IN-USE]</c>, as if another session held the mailbox.</summary>
public sealed record LoginInUse() : Pop3Fault;

/// <summary>Removes the APOP timestamp (<c>&lt;…&gt;</c>) from the greeting, so APOP is not offered.</summary>
public sealed record GreetingWithoutTimestamp() : Pop3Fault;

/// <summary>
/// After a successful login (PASS, APOP, AUTH), drops whatever the client had already sent behind the
/// login command — in practice everything sent in the same write — as Courier does when its login
/// process hands the connection over to the mailbox process: a CAPA pipelined behind PASS is never
/// answered. A failed login drops nothing.
/// </summary>
public sealed record DiscardInputAfterLogin() : Pop3Fault;
