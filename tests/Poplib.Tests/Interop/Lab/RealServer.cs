using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Poplib.Tests.Interop.Lab;

/// <summary>What a server changes in the mail it serves (beyond CRLF line endings), and nothing else is allowed to change.</summary>
[Flags]
internal enum MailRewrites
{
    None = 0,

    /// <summary>popa3d serves an mboxrd file as stored: a line matching <c>^&gt;*From </c> keeps the <c>&gt;</c> quoting added when it was written.</summary>
    QuotedFromLines = 1,

    /// <summary>GNU pop3d, once it has told a message's UIDL, adds <c>X-UIDL: uid</c> as its last header line, for good (LIST and STAT count it at once).</summary>
    XUidlHeader = 2,

    /// <summary>Cyrus (delivered over LMTP) replaces Return-Path with the envelope sender's and adds Received, X-Cyrus-Session-Id and X-Sieve.</summary>
    DeliveryHeaders = 4,
}

/// <summary>How a test connects: in plain text, plain text and then STLS, or TLS from the first byte.</summary>
internal enum Link
{
    Plain,
    Stls,
    ImplicitTls,
}

/// <summary>
/// One server of the lab as the interop suite expects to find it: ports, what it offers, how it
/// changes mail, what <c>Login</c> must choose. A test that finds anything else fails.
/// </summary>
internal sealed record RealServer
{
    private static readonly Regex CyrusDeliveryBlock = new(
        "^Return-Path: <lab@example\\.test>\r\nReceived: from localhost \\(\\[unix socket\\]\\)\r\n\t by localhost \\(Cyrus [^\r\n]*\\) with LMTPA;\r\n" +
        "\t [^\r\n]*\r\nX-Cyrus-Session-Id: [^\r\n]*\r\nX-Sieve: CMU Sieve [^\r\n]*\r\n",
        RegexOptions.CultureInvariant);

    public static RealServer Dovecot { get; } = new()
    {
        Name = "dovecot",
        Greeting = @"\+OK Dovecot \(Debian\) ready\. <[^<>@]+@[^<>@]+>",
        PassReply = @"\+OK Logged in\.",
        RetrReply = "+OK {0} octets",
        TopReply = "+OK",
        NoSuchMessage = "-ERR There's no message {0}.",
        PortVariable = "DOVECOT_PORT",
        DefaultPort = 11110,
        TlsPortVariable = "DOVECOT_TLS_PORT",
        DefaultTlsPort = 11995,
        Stls = true,
        Sasl = ["PLAIN", "LOGIN", "CRAM-MD5"],
        Apop = true,
        Pipelining = true,
        ResponseCodes = true,
        LoginPlain = "AUTH CRAM-MD5",
        LoginTls = "AUTH CRAM-MD5",
    };

    public static RealServer Popa3d { get; } = new()
    {
        Name = "popa3d",
        Greeting = @"\+OK",
        PassReply = @"\+OK",
        RetrReply = "+OK",
        TopReply = "+OK",
        NoSuchMessage = "-ERR",
        PortVariable = "POPA3D_PORT",
        DefaultPort = 12110,
        Capa = false,
        LoginPlain = "USER/PASS",
        Rewrites = MailRewrites.QuotedFromLines,
        ClosesAfterRefusedLogin = true,
    };

    public static RealServer Mailutils { get; } = new()
    {
        Name = "mailutils",
        Greeting = @"\+OK POP3 Ready <\d+\.\d+@[^<>@]+>",
        PassReply = @"\+OK opened mailbox for alice",
        RetrReply = "+OK",
        TopReply = "+OK",
        NoSuchMessage = "-ERR No such message",
        PortVariable = "MAILUTILS_PORT",
        DefaultPort = 13110,
        TlsPortVariable = "MAILUTILS_TLS_PORT",
        DefaultTlsPort = 13995,
        Stls = true,
        Apop = true,
        Pipelining = true,
        ResponseCodes = true,
        KeepsLoginCapabilities = true,
        LoginPlain = "APOP",
        LoginTls = "APOP",
        Rewrites = MailRewrites.XUidlHeader,
        TopExtraBlankLine = true,
    };

    public static RealServer Courier { get; } = new()
    {
        Name = "courier",
        Greeting = @"\+OK Hello there\.",
        PassReply = @"\+OK logged in\.",
        RetrReply = "+OK {0} octets follow.",
        TopReply = "+OK headers follow.",
        NoSuchMessage = "-ERR Invalid message number.",
        Utf8 = true,
        PortVariable = "COURIER_PORT",
        DefaultPort = 14110,
        TlsPortVariable = "COURIER_TLS_PORT",
        DefaultTlsPort = 14995,
        Stls = true,
        Sasl = ["PLAIN", "LOGIN"],
        Pipelining = true,
        KeepsLoginCapabilities = true,
        LoginPlain = "AUTH PLAIN",
        LoginTls = "AUTH PLAIN",
    };

    public static RealServer Cyrus { get; } = new()
    {
        Name = "cyrus",
        Greeting = @"\+OK localhost Cyrus POP3 \S+ server ready <\d+\.\d+@localhost>",
        PassReply = @"\+OK Mailbox locked and ready SESSIONID=<[^<>]+>",
        RetrReply = "+OK Message follows",
        TopReply = "+OK Message follows",
        NoSuchMessage = "-ERR No such message",
        PortVariable = "CYRUS_PORT",
        DefaultPort = 15110,
        TlsPortVariable = "CYRUS_TLS_PORT",
        DefaultTlsPort = 15995,
        Stls = true,
        Sasl = ["PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5"],
        Apop = true,
        Pipelining = true,
        ResponseCodes = true,
        LoginPlain = "AUTH CRAM-MD5",
        LoginTls = "AUTH CRAM-MD5",
        Rewrites = MailRewrites.DeliveryHeaders,
    };

    public static RealServer SolidPop3d { get; } = new()
    {
        Name = "solid-pop3d",
        Greeting = @"\+OK Solid POP3 server ready <\d+\.\d+@localhost>",
        PassReply = @"\+OK authentication successful",
        RetrReply = "+OK {0} octets",
        TopReply = "+OK ",
        NoSuchMessage = "-ERR no such message",
        PortVariable = "SOLID_PORT",
        DefaultPort = 16110,
        Capa = false,
        Apop = true,
        LoginPlain = "APOP",
        DeliveryOrder = false,
        WrongCommandLimit = 5,
        ClosesAfterRefusedLogin = true,
    };

    public static IReadOnlyList<RealServer> All { get; } = [Dovecot, Popa3d, Mailutils, Courier, Cyrus, SolidPop3d];

    /// <summary>The lab's folder name (<c>NAME/start.sh</c>), also the value of the tests' <c>Server</c> trait.</summary>
    public required string Name { get; init; }

    public required string PortVariable { get; init; }

    public required int DefaultPort { get; init; }

    public string? TlsPortVariable { get; init; }

    public int? DefaultTlsPort { get; init; }

    /// <summary>The plain port, as the lab's script reads it (<c>DOVECOT_PORT</c> …).</summary>
    public int Port => PortFrom(PortVariable, DefaultPort);

    /// <summary>The implicit-TLS port, or null when the server has none.</summary>
    public int? TlsPort => TlsPortVariable is null ? null : PortFrom(TlsPortVariable, DefaultTlsPort!.Value);

    /// <summary>The greeting, a regular expression for the whole line (APOP timestamps change).</summary>
    public required string Greeting { get; init; }

    /// <summary>PASS's reply after a good password, a regular expression for the whole line (Cyrus adds a session id).</summary>
    public required string PassReply { get; init; }

    /// <summary>RETR's status line; <c>{0}</c> stands for the message's size.</summary>
    public required string RetrReply { get; init; }

    /// <summary>TOP's status line (solid-pop3d's has a trailing space).</summary>
    public required string TopReply { get; init; }

    /// <summary>The <c>-ERR</c> for a message number past the last; <c>{0}</c> stands for the number.</summary>
    public required string NoSuchMessage { get; init; }

    /// <summary>Takes the UTF8 command (RFC 6856): only Courier of the six.</summary>
    public bool Utf8 { get; init; }

    /// <summary>Answers CAPA (popa3d and solid-pop3d answer <c>-ERR</c>).</summary>
    public bool Capa { get; init; } = true;

    public bool Stls { get; init; }

    /// <summary>The SASL mechanisms CAPA lists, in its order.</summary>
    public IReadOnlyList<string> Sasl { get; init; } = [];

    /// <summary>The greeting carries an APOP timestamp, and APOP works.</summary>
    public bool Apop { get; init; }

    public bool Pipelining { get; init; }

    public bool ResponseCodes { get; init; }

    /// <summary>CAPA after login still lists what only matters before it (USER, STLS; Courier SASL too), as GNU pop3d and Courier do.</summary>
    public bool KeepsLoginCapabilities { get; init; }

    /// <summary>What <c>Login</c> must choose on a plain connection (opted in).</summary>
    public required string LoginPlain { get; init; }

    /// <summary>What <c>Login</c> must choose over TLS; null when the server has no TLS.</summary>
    public string? LoginTls { get; init; }

    public MailRewrites Rewrites { get; init; }

    /// <summary>Message numbers follow delivery order (solid-pop3d numbers a Maildir in directory order).</summary>
    public bool DeliveryOrder { get; init; } = true;

    /// <summary>TOP n k with k &gt; 0 puts an extra empty line between the header and the body (GNU pop3d).</summary>
    public bool TopExtraBlankLine { get; init; }

    /// <summary>The server closes the connection after this many <c>-ERR</c> replies in a session (solid-pop3d's WrongCommandsLimit).</summary>
    public int? WrongCommandLimit { get; init; }

    /// <summary>The server hangs up right after refusing a login (popa3d, solid-pop3d), so nothing can follow it.</summary>
    public bool ClosesAfterRefusedLogin { get; init; }

    public bool HasTls => TlsPortVariable is not null;

    /// <summary>How the command tests connect: over implicit TLS where the server has it, else in plain text.</summary>
    public Link Preferred => HasTls ? Link.ImplicitTls : Link.Plain;

    /// <summary>Why this server's tests are skipped, or null when they run: never under CI, where a missing server fails. Looked up once.</summary>
    public string? SkipReason => SkipReasons.GetOrAdd(Name, _ => FindSkipReason());

    private static System.Collections.Concurrent.ConcurrentDictionary<string, string?> SkipReasons { get; } = new();

    private string? FindSkipReason() =>
        Pop3Lab.IsCi ? null
        : !Pop3Lab.Greets(Port) ? $"{Name} is not running on {Pop3Lab.Host}:{Port} (scripts/test.sh starts it as root; or: sudo {Pop3Lab.Directory}/{Name}/start.sh)."
        : !Pop3Lab.IsRoot ? $"{Name} runs, but its tests regenerate the lab's mailbox, which needs root."
        : null;

    public override string ToString() => Name;

    /// <summary>
    /// What RETR of the generated message <paramref name="source"/> must return from this server:
    /// the source changed in exactly the documented ways. <paramref name="actual"/> supplies what
    /// cannot be predicted (Cyrus's delivery date and session id), and only if it has the exact shape.
    /// </summary>
    public byte[] Expected(byte[] source, string uid, byte[] actual)
    {
        string text = Encoding.Latin1.GetString(source);
        if (Rewrites.HasFlag(MailRewrites.QuotedFromLines))
        {
            text = string.Join("\r\n", text.Split("\r\n").Select(line =>
                line.TrimStart('>').StartsWith("From ", StringComparison.Ordinal) ? ">" + line : line));
        }

        if (Rewrites.HasFlag(MailRewrites.XUidlHeader))
        {
            int headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 2;
            text = text[..headerEnd] + "X-UIDL: " + uid + "\r\n" + text[headerEnd..];
        }

        if (Rewrites.HasFlag(MailRewrites.DeliveryHeaders)
            && CyrusDeliveryBlock.Match(Encoding.Latin1.GetString(actual)) is { Success: true } block
            && text.StartsWith("Return-Path: ", StringComparison.Ordinal))
        {
            text = block.Value + text[(text.IndexOf("\r\n", StringComparison.Ordinal) + 2)..];
        }

        return Encoding.Latin1.GetBytes(text);
    }

    /// <summary>
    /// What TOP n <paramref name="lines"/> must return, given what RETR returns: the header, the empty
    /// line, and that many body lines — where GNU pop3d's extra empty line takes the place of the last.
    /// </summary>
    public byte[] ExpectedTop(byte[] message, int lines)
    {
        if (!TopExtraBlankLine || lines == 0)
            return HeaderAndLines(message, lines);
        string text = Encoding.Latin1.GetString(message);
        int headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        return HeaderAndLines(Encoding.Latin1.GetBytes(text[..headerEnd] + "\r\n" + text[headerEnd..]), lines);
    }

    /// <summary>The header of <paramref name="message"/>, its empty line, and the first <paramref name="lines"/> lines of its body.</summary>
    public static byte[] HeaderAndLines(byte[] message, int lines)
    {
        int end = message.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        for (int i = 0; i < lines && end < message.Length; i++)
            end += message.AsSpan(end).IndexOf("\r\n"u8) + 2;
        return message[..end];
    }

    private static int PortFrom(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out int port) ? port : fallback;
}
