namespace Poplib.Testing;

/// <summary>
/// A misbehaviour of real POP3 servers, injected as data through <see cref="Pop3TestServerOptions.Faults"/>
/// or <see cref="Pop3TestServer.Faults"/>. Faults apply to every session that starts while they are
/// set; several can be combined. They only describe what goes wrong: one interpreter in the session
/// loop applies them, so the command handlers stay correct.
/// </summary>
public abstract record Pop3Fault
{
    /// <summary>Throws <see cref="ArgumentException"/> when the fault's parameters make no sense (the server checks each fault it is given).</summary>
    internal virtual void Validate()
    {
    }

    private protected static void ThrowIfNotOneLine(string value, string name) => Pop3TestServerOptions.ThrowIfNotOneLine(value, name);

    /// <summary>A fault that replaces a command's status line: the verb and the line are one line each, the line has the status it stands for.</summary>
    private protected static void ThrowUnlessStatusLine(string command, string line, string status)
    {
        ThrowIfNotOneLine(command, nameof(command));
        ThrowIfNotOneLine(line, nameof(line));
        if (!line.StartsWith(status, StringComparison.Ordinal))
            throw new ArgumentException($"The line starts with {status}.", nameof(line));
    }
}

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
/// Answers <paramref name="Command"/> (a verb, case-insensitive) with exactly <paramref name="Line"/>,
/// which starts with <c>-ERR</c>, and leaves CAPA as it is: a server that advertises a command and
/// refuses it, for good or for now (<c>-ERR [SYS/TEMP] …</c>, <c>-ERR [IN-USE] …</c>).
/// </summary>
/// <param name="Command">The verb that is refused.</param>
/// <param name="Line">The status line: starts with <c>-ERR</c>, one line.</param>
public sealed record CommandRefused(string Command, string Line) : Pop3Fault
{
    internal override void Validate() => ThrowUnlessStatusLine(Command, Line, "-ERR");
}

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

/// <summary>
/// Every status line is bare — the greeting <c>+OK</c>, every success <c>+OK</c>, every failure
/// <c>-ERR</c>, with nothing after them — as popa3d answers; only STAT, LIST n and UIDL n keep their
/// numbers, which are the answer. (Without text the greeting has no APOP timestamp either.)
/// </summary>
public sealed record BareStatusLines() : Pop3Fault;

/// <summary>
/// Answers a successful <paramref name="Command"/> (a verb, case-insensitive) with exactly
/// <paramref name="Line"/> as its status line: Cyrus's <c>+OK Mailbox locked and ready SESSIONID=&lt;…&gt;</c>
/// after PASS or APOP, its <c>+OK Message follows</c> for RETR and TOP, solid-pop3d's <c>+OK </c> (with a
/// trailing space) for TOP, GNU pop3d's bare <c>+OK</c> for RETR.
/// </summary>
/// <param name="Command">The verb whose success line is replaced.</param>
/// <param name="Line">The status line: starts with <c>+OK</c>, one line.</param>
public sealed record SuccessLine(string Command, string Line) : Pop3Fault
{
    internal override void Validate() => ThrowUnlessStatusLine(Command, Line, "+OK");
}

/// <summary>
/// CAPA answers exactly <paramref name="Lines"/>, before and after login, with and without TLS, as
/// servers whose list never changes do: GNU pop3d (<c>EXPIRENEVER</c> without its space, and USER and
/// STLS still listed after login) and Courier (SASL and STLS still listed after login). What the server
/// does is not changed: it still refuses STLS on TLS, and the client must refuse it after login.
/// </summary>
/// <param name="Lines">The capability lines, each one line.</param>
public sealed record CapabilityLines(string[] Lines) : Pop3Fault
{
    internal override void Validate()
    {
        ArgumentNullException.ThrowIfNull(Lines, nameof(Lines));
        foreach (string line in Lines)
        {
            ThrowIfNotOneLine(line, nameof(Lines));
            if (line.Length == 0 || line == ".")
                throw new ArgumentException("A capability line is neither empty nor \".\".", nameof(Lines));
        }
    }
}

/// <summary>
/// Once UIDL has told a message's unique id, that message carries <c>X-UIDL: uid</c> as its last header
/// line from then on, in RETR and TOP, and LIST and STAT count it at once — so LIST can say one size
/// before UIDL and another after it within one session — as GNU Mailutils pop3d does (it writes the
/// header into the stored message). The server remembers what it told for as long as it runs.
/// </summary>
public sealed record XUidlHeader() : Pop3Fault;

/// <summary>
/// TOP n k with k &gt; 0 sends an empty line between the header and the body, and then k body lines:
/// one line more than asked, as GNU Mailutils pop3d does.
/// </summary>
public sealed record TopExtraBlankLine() : Pop3Fault;

/// <summary>
/// Serves every line that matches <c>^&gt;*From </c> with one more <c>&gt;</c> (and LIST and STAT count it),
/// as popa3d serves an mboxrd file without undoing the quoting its writer added.
/// </summary>
public sealed record QuotedFromLines() : Pop3Fault;

/// <summary>
/// Numbers the messages in another order in each session (a permutation drawn from
/// <paramref name="Seed"/> and the count of sessions so far); unique ids follow their messages. As
/// solid-pop3d, which numbers a Maildir in directory order — an order that changes when a session moves
/// the messages from <c>new/</c> to <c>cur/</c>. A client must never carry a number from one session to
/// the next.
/// </summary>
/// <param name="Seed">Makes the orders reproducible.</param>
public sealed record ShuffledNumbers(int Seed) : Pop3Fault;

/// <summary>
/// Closes the connection, without a word, right after the <paramref name="Count"/>-th <c>-ERR</c> of a
/// session (a CAPA the server does not know counts), as solid-pop3d does after five wrong commands (its
/// WrongCommandsLimit). Nothing is committed.
/// </summary>
/// <param name="Count">The <c>-ERR</c> after which the connection is closed.</param>
public sealed record DisconnectAfterErrors(int Count) : Pop3Fault
{
    internal override void Validate() => ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Count, nameof(Count));
}

/// <summary>
/// Answers STLS with <c>+OK</c>, reads the client's first TLS record, and then, instead of a handshake,
/// sends a TLS close_notify alert and <c>-ERR </c><paramref name="Reason"/> in plain text, and goes on in
/// plain text — as Courier does when its TLS helper cannot go on (no cipher suite in common, no
/// certificate). A client must fail closed: never send anything more on that connection.
/// </summary>
/// <param name="Reason">The text after <c>-ERR </c>.</param>
public sealed record StlsFailsAfterOk(string Reason = "STARTTLS failed: No supported cipher suites have been found.") : Pop3Fault
{
    internal override void Validate() => ThrowIfNotOneLine(Reason, nameof(Reason));
}

/// <summary>
/// Writes each reply's status line in a TCP segment of its own and the rest after it, with Nagle's
/// algorithm on — as popa3d, GNU pop3d, Courier, Cyrus and solid-pop3d do. A client that waits for each
/// reply before sending the next command, and does not acknowledge at once, waits for its own delayed
/// ACK on every reply: about 40 ms per command on Linux (44 ms per RETR measured against those servers).
/// </summary>
public sealed record SplitReplies() : Pop3Fault;
