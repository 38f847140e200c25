using System.Text;

namespace Poplib.CrashTest;

/// <summary>
/// A private Dovecot with its LMTP server (<c>scripts/dovecot.sh start DIR --lmtp</c>) for the
/// <c>lmtp</c> mode: <c>poplib fetch --lmtp unix:…</c> delivers into a user's Maildir, which the
/// harness reads with the fields Dovecot adds taken off. Stopped and removed at the end.
/// </summary>
internal sealed class DovecotLmtp : IDisposable
{
    private static int s_users;
    private readonly string _script;

    private DovecotLmtp(string script, string directory, string socket, string homeRoot, int pop3Port)
    {
        _script = script;
        Directory = directory;
        Socket = socket;
        HomeRoot = homeRoot;
        Pop3Port = pop3Port;
    }

    public string Directory { get; }

    public string Socket { get; }

    public string HomeRoot { get; }

    /// <summary>Its POP3 port on 127.0.0.1 (without TLS; Dovecot takes loopback as secure, so plaintext logins work).</summary>
    public int Pop3Port { get; }

    public static DovecotLmtp Start(string repository)
    {
        string script = Path.Combine(repository, "scripts", "dovecot.sh");
        string directory = Path.Combine(Path.GetTempPath(), "poplib-crash-dovecot-" + Guid.NewGuid().ToString("N")[..8]);
        Run(script, "start", directory, "--lmtp");
        Dictionary<string, string> env = Repository.ReadEnv(Path.Combine(directory, "env"));
        return new DovecotLmtp(script, directory, env["LMTP_SOCKET"], env["HOME_ROOT"], int.Parse(env["PLAIN_PORT"], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A new user with an empty mailbox, and the destination that delivers to it.</summary>
    public LmtpMaildirDestination NewDestination()
    {
        string user = $"crash{Interlocked.Increment(ref s_users)}x{Environment.ProcessId}";
        string source = Path.Combine(Directory, "src-" + user);
        System.IO.Directory.CreateDirectory(source);
        Run(_script, "add-user", Directory, user, "pw-" + user, source);
        return new LmtpMaildirDestination(Path.Combine(HomeRoot, user, "Maildir"), Socket, user);
    }

    /// <summary>A new POP3 user whose mailbox starts with the files in <paramref name="source"/> (CRLF messages); returns that Maildir.</summary>
    public string AddUser(string user, string password, string source)
    {
        Run(_script, "add-user", Directory, user, password, source);
        return Path.Combine(HomeRoot, user, "Maildir");
    }

    public void Dispose()
    {
        try
        {
            Run(_script, "stop", Directory);
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or HarnessException)
        {
            // Left for inspection.
        }
    }

    private static void Run(string script, params string[] arguments) => Repository.RunScript(script, arguments);
}

/// <summary>The Maildir Dovecot's LMTP server delivers into; each message read without the fields Dovecot put in front.</summary>
internal sealed class LmtpMaildirDestination(string maildir, string socket, string user) : MaildirDestination(maildir)
{
    private static readonly string[] Added = ["Return-Path:", "Delivered-To:", "Received:"];

    public override IReadOnlyList<string> FetchArguments => ["--lmtp", "unix:" + socket, "--lmtp-rcpt", user];

    /// <summary>Dovecot's tmp/ holds its own deliveries in progress, never poplib's.</summary>
    public override IReadOnlyCollection<string> Leftovers() => [];

    protected override byte[] Read(byte[] stored)
    {
        int position = 0;
        foreach (string field in Added)
        {
            if (!stored.AsSpan(position).StartsWith(Encoding.ASCII.GetBytes(field)))
                continue;
            do
            {
                int lf = stored.AsSpan(position).IndexOf((byte)'\n');
                if (lf < 0)
                    return stored;
                position += lf + 1;
            }
            while (position < stored.Length && stored[position] is (byte)' ' or (byte)'\t');
        }

        return stored[position..];
    }
}
