using System.Diagnostics;
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

    private DovecotLmtp(string script, string directory, string socket, string homeRoot)
    {
        _script = script;
        Directory = directory;
        Socket = socket;
        HomeRoot = homeRoot;
    }

    public string Directory { get; }

    public string Socket { get; }

    public string HomeRoot { get; }

    public static DovecotLmtp Start(string repository)
    {
        string script = Path.Combine(repository, "scripts", "dovecot.sh");
        string directory = Path.Combine(Path.GetTempPath(), "poplib-crash-dovecot-" + Guid.NewGuid().ToString("N")[..8]);
        Run(script, "start", directory, "--lmtp");
        var env = File.ReadAllLines(Path.Combine(directory, "env"))
            .Where(l => l.Contains('=', StringComparison.Ordinal))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Trim('\'', '"'), StringComparer.Ordinal);
        return new DovecotLmtp(script, directory, env["LMTP_SOCKET"], env["HOME_ROOT"]);
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

    private static void Run(string script, params string[] arguments)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);
        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new HarnessException($"dovecot.sh {string.Join(' ', arguments)} failed ({process.ExitCode}): {stdout.Result}{stderr.Result}");
    }
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
