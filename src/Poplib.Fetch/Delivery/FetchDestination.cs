namespace Poplib.Fetch;

/// <summary>
/// Where an account's mail goes: a description that opens an <see cref="Delivery.IMailDestination"/>
/// for each run. The built-ins: <see cref="Maildir"/>, <see cref="Mbox"/>, <see cref="Command"/> (a
/// mail delivery agent), <see cref="Lmtp"/> (a local mail server) and <see cref="Sink"/> (your application's code). For a destination of your
/// own, derive from this class and implement <see cref="Open(AccountKey)"/>.
/// </summary>
public abstract class FetchDestination
{
    /// <summary>Opens the destination for one run of <paramref name="account"/>; the engine disposes it.</summary>
    public abstract Delivery.IMailDestination Open(AccountKey account);

    /// <summary>Opens it with the environment programs started for it must not see (the built-in command destination uses it).</summary>
    internal virtual Delivery.IMailDestination Open(AccountKey account, ChildEnvironment hidden) => Open(account);

    /// <summary>
    /// A Maildir (created if missing, private): each message is written in <c>tmp/</c>, synced, and
    /// renamed into <c>new/</c>; a crash is settled by the next run from the names recorded.
    /// </summary>
    public static FetchDestination Maildir(string path) => new Builtin(DestinationKind.Maildir, Full(path));

    /// <summary>An mbox file (mboxrd, locked with fcntl and a dot-lock); appended and synced group by group, rolled back on failure.</summary>
    public static FetchDestination Mbox(string path) => new Builtin(DestinationKind.Mbox, Full(path));

    /// <summary>
    /// A mail delivery agent (procmail, dovecot-lda …) run by <c>/bin/sh -c</c> for each message,
    /// the message on its standard input; exit status 0 means delivered, another is a rejection (the
    /// message stays on the server). It sees <c>POPLIB_ACCOUNT</c>, <c>POPLIB_UIDL</c> and
    /// <c>POPLIB_SIZE</c>, and never the account's password.
    /// </summary>
    public static FetchDestination Command(string commandLine)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commandLine);
        return new Builtin(DestinationKind.Mda, commandLine);
    }

    /// <summary>
    /// A mail server over LMTP (RFC 2033), e.g. Dovecot's <c>lmtp</c> service: one session per run,
    /// each message sent from its <c>Return-Path:</c> (or <c>&lt;&gt;</c>) to every recipient in one
    /// transaction and recorded as delivered as soon as the server's final replies say 250. A 4xx
    /// (for any recipient) leaves the message on the server, not recorded, to be tried again next
    /// run; a 5xx for every recipient is a rejection (it stays on the server); 250 for some and 5xx
    /// for the others counts as delivered, the refusals reported. An unreachable or broken server
    /// stops the run with <see cref="FetchFailure.Destination"/>. A crash after the server's final 250
    /// and before the record is committed fetches the message again: the one duplicate window (see docs/lmtp.md).
    /// </summary>
    /// <param name="endpoint"><c>HOST:PORT</c>, <c>[IPv6]:PORT</c> or <c>unix:/absolute/path</c>.</param>
    /// <param name="recipients">One or more envelope recipients (RCPT TO), e.g. the local user names.</param>
    /// <param name="options">Timeouts; null for the defaults.</param>
    /// <exception cref="ArgumentException">The endpoint is malformed, there is no recipient, or a recipient cannot be sent (CR, LF, spaces, brackets).</exception>
    public static FetchDestination Lmtp(string endpoint, IReadOnlyList<string> recipients, LmtpDeliveryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(recipients);
        if (LmtpProblem(endpoint, recipients) is { } problem)
            throw new ArgumentException("The LMTP destination " + problem + ".", nameof(recipients));
        return new Delivery.Lmtp.LmtpFetchDestination(Delivery.Lmtp.LmtpEndpoint.Parse(endpoint), [.. recipients], (options ?? new LmtpDeliveryOptions()).ToClientOptions());
    }

    /// <summary>What is wrong with an LMTP address and its recipients as given, or null (shared by the factory, the CLI and the config).</summary>
    internal static string? LmtpProblem(string endpoint, IReadOnlyList<string> recipients)
    {
        try
        {
            Delivery.Lmtp.LmtpEndpoint.Parse(endpoint);
        }
        catch (FormatException e)
        {
            return e.Message.TrimEnd('.');
        }

        if (recipients.Count == 0)
            return $"{endpoint} has no recipient: name one or more (RCPT TO addresses)";
        foreach (string recipient in recipients)
        {
            try
            {
                Delivery.Lmtp.LmtpAddress.ValidateRecipient(recipient, nameof(recipients));
            }
            catch (ArgumentException e)
            {
                return e.Message[..(e.Message.IndexOf(" (Parameter", StringComparison.Ordinal) is int i and >= 0 ? i : e.Message.Length)].TrimEnd('.');
            }
        }

        return null;
    }

    /// <summary>
    /// Your application's code: each message is spooled privately, then handed to
    /// <paramref name="sink"/> (see <see cref="IMessageSink"/> for the guarantee). <paramref name="name"/>
    /// is what the state records as the destination (default <c>sink</c>).
    /// </summary>
    public static FetchDestination Sink(IMessageSink sink, string name = "sink")
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new SinkFetchDestination(sink, name);
    }

    private static string Full(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
    }

    /// <summary>
    /// What is wrong with a built-in destination's target as given, or null. An empty or blank one is
    /// never "nowhere": <c>/bin/sh -c ""</c> succeeds, so an empty delivery command would report every
    /// message delivered — and delete mode would then remove them from the server.
    /// </summary>
    internal static string? Problem(DestinationKind kind, string target) => kind switch
    {
        _ when string.IsNullOrWhiteSpace(target) => "is empty: it must name " + kind switch
        {
            DestinationKind.Mda => "a delivery command",
            DestinationKind.Mbox => "an mbox file",
            DestinationKind.Lmtp => "an LMTP server (HOST:PORT or unix:/path)",
            _ => "a Maildir folder",
        },
        DestinationKind.Maildir when File.Exists(target) => $"{target} is a file, not a Maildir folder",
        DestinationKind.Mbox when Directory.Exists(target) || target.EndsWith('/') => $"{target} is a folder, not an mbox file",
        DestinationKind.Mda when target.Trim() is ":" or "true" or "/bin/true" or "/usr/bin/true" or "exit" or "exit 0" => $"\"{target}\" delivers nowhere: it must store the message, and exit 0 only then",
        _ => null,
    };

    /// <summary>One of the built-in file and command destinations.</summary>
    internal sealed class Builtin(DestinationKind kind, string target) : FetchDestination
    {
        public DestinationKind Kind { get; } = kind;

        public string Target { get; } = target;

        public override Delivery.IMailDestination Open(AccountKey account) => Open(account, ChildEnvironment.None);

        internal override Delivery.IMailDestination Open(AccountKey account, ChildEnvironment hidden) => Kind switch
        {
            DestinationKind.Maildir => new MaildirDestination(Target),
            DestinationKind.Mbox => new MboxDestination(Target),
            _ => new MdaDestination(Target, account, hidden),
        };

        public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}:{Target}";
    }
}

/// <summary>The built-in destinations the CLI and the config name.</summary>
internal enum DestinationKind
{
    Maildir,
    Mbox,
    Mda,
    Lmtp,
}
