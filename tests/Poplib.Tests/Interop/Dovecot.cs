using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Poplib.Tests.Interop;

/// <summary>
/// A private Dovecot instance on 127.0.0.1, started by <c>scripts/dovecot.sh</c> in a temporary
/// folder, with a generated certificate. Each test gets a user of its own (and so a mailbox of its
/// own), so tests that delete mail never disturb each other.
/// </summary>
public sealed class DovecotInstance : IDisposable
{
    private static int s_users;
    private readonly Dictionary<string, string> _env;

    private DovecotInstance(string directory, Dictionary<string, string> env)
    {
        Directory = directory;
        _env = env;
        Host = env["HOST"];
        PlainPort = int.Parse(env["PLAIN_PORT"]);
        TlsPort = int.Parse(env["TLS_PORT"]);
        Certificate = X509CertificateLoader.LoadCertificateFromFile(env["CERT"]);
        LmtpPort = env.TryGetValue("LMTP_PORT", out string? lmtp) ? int.Parse(lmtp) : 0;
        LmtpSocket = env.GetValueOrDefault("LMTP_SOCKET");
        HomeRoot = env["HOME_ROOT"];
    }

    public string Directory { get; }

    /// <summary>
    /// The address it listens on: 127.0.0.1, or 127.0.0.2 for the strict instance — Dovecot counts a
    /// connection whose client and server addresses are equal as secure, so on 127.0.0.1 it would
    /// never refuse a plaintext login.
    /// </summary>
    public string Host { get; }

    public int PlainPort { get; }

    public int TlsPort { get; }

    /// <summary>The instance's self-signed certificate (CN=localhost; SANs localhost, 127.0.0.1 and 127.0.0.2).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>With <c>start --lmtp</c>: Dovecot's LMTP port on <see cref="Host"/> (else 0) and its Unix socket (else null).</summary>
    public int LmtpPort { get; }

    public string? LmtpSocket { get; }

    /// <summary>A user's mail is in <c>HomeRoot/NAME/Maildir</c>.</summary>
    public string HomeRoot { get; }

    /// <summary>Whether <c>/usr/sbin/dovecot</c> is installed (scripts/install-deps.sh installs it).</summary>
    public static bool IsInstalled => File.Exists("/usr/sbin/dovecot") && File.Exists("/usr/lib/dovecot/pop3");

    /// <summary>Whether Dovecot's LMTP server (<c>dovecot-lmtpd</c>) is installed too.</summary>
    public static bool LmtpIsInstalled => IsInstalled && File.Exists("/usr/lib/dovecot/lmtp");

    public static DovecotInstance Start(bool strict, bool lmtp = false)
    {
        string directory = Path.Combine(Path.GetTempPath(), "poplib-dovecot-" + Guid.NewGuid().ToString("N")[..12]);
        List<string> arguments = ["start", directory];
        if (strict)
            arguments.Add("--strict");
        if (lmtp)
            arguments.Add("--lmtp");
        Run([.. arguments]);
        var env = File.ReadAllLines(Path.Combine(directory, "env"))
            .Where(l => l.Contains('='))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Trim('\'', '"'));
        return new DovecotInstance(directory, env);
    }

    /// <summary>Creates a user whose mailbox holds <paramref name="messages"/> (message 1 first).</summary>
    public (string User, string Password) AddUser(IReadOnlyList<byte[]> messages, string? password = null)
    {
        string user = $"user{Interlocked.Increment(ref s_users)}x{Environment.ProcessId}";
        password ??= "pw-" + user;
        string source = Path.Combine(Directory, "src-" + user);
        System.IO.Directory.CreateDirectory(source);
        for (int i = 0; i < messages.Count; i++)
            File.WriteAllBytes(Path.Combine(source, $"{i + 1:D6}.eml"), messages[i]);
        Run(["add-user", Directory, user, password, source]);
        return (user, password);
    }

    public Pop3ClientOptions Options(bool allowInsecure = false) => new()
    {
        SslOptions = Infrastructure.TestCertificates.Trusting(Certificate),
        AllowInsecureAuthentication = allowInsecure,
        Timeout = TimeSpan.FromSeconds(20),
    };

    public void Dispose()
    {
        try
        {
            Run(["stop", Directory]);
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // Leave the folder for inspection; the next run uses another.
        }
    }

    private static void Run(string[] arguments) => RunScript("dovecot.sh", arguments, TimeSpan.FromSeconds(90));

    /// <summary>Runs <c>scripts/<paramref name="script"/></c> with bash; a failure or a hang throws with its output.</summary>
    internal static void RunScript(string script, string[] arguments, TimeSpan patience)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(Path.Combine(RepositoryRoot, "scripts", script));
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);
        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(patience))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{script} {arguments[0]} did not finish in {patience.TotalSeconds} s.");
        }

        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{script} {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
    }

    internal static string RepositoryRoot
    {
        get
        {
            for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
            {
                if (File.Exists(Path.Combine(dir, "Poplib.sln")))
                    return dir;
            }

            throw new InvalidOperationException("Cannot find the repository root (Poplib.sln) above " + AppContext.BaseDirectory);
        }
    }
}

/// <summary>
/// One plain/TLS Dovecot instance and one with plaintext authentication disabled, shared by the
/// integration tests and stopped after them.
/// </summary>
public sealed class DovecotFixture : IDisposable
{
    private readonly Lazy<DovecotInstance> _default = new(() => DovecotInstance.Start(strict: false));
    private readonly Lazy<DovecotInstance> _strict = new(() => DovecotInstance.Start(strict: true));

    public DovecotInstance Server => _default.Value;

    public DovecotInstance StrictServer => _strict.Value;

    public void Dispose()
    {
        if (_default.IsValueCreated)
            _default.Value.Dispose();
        if (_strict.IsValueCreated)
            _strict.Value.Dispose();
    }
}

[CollectionDefinition(nameof(DovecotCollection))]
public sealed class DovecotCollection : ICollectionFixture<DovecotFixture>;

/// <summary>
/// A test that needs Dovecot. Without Dovecot it is skipped on a developer's machine, but under CI
/// (<c>CI=true</c>) it runs and fails: CI must prove interoperability, not skip it.
/// </summary>
public sealed class DovecotFactAttribute : FactAttribute
{
    public DovecotFactAttribute()
    {
        if (!DovecotInstance.IsInstalled && !IsCi)
            Skip = "Dovecot is not installed (run scripts/install-deps.sh as root).";
    }

    internal static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}

/// <inheritdoc cref="DovecotFactAttribute"/>
public sealed class DovecotTheoryAttribute : TheoryAttribute
{
    public DovecotTheoryAttribute()
    {
        if (!DovecotInstance.IsInstalled && !DovecotFactAttribute.IsCi)
            Skip = "Dovecot is not installed (run scripts/install-deps.sh as root).";
    }
}

/// <summary>Realistic sample messages with CRLF line endings.</summary>
internal static class SampleMail
{
    public static byte[] Message(int n, string body = "Hello from the integration test.\r\n") => Encoding.UTF8.GetBytes(
        $"From: Sender {n} <sender{n}@example.org>\r\n" +
        "To: alice@example.org\r\n" +
        $"Subject: Test message {n}\r\n" +
        $"Message-ID: <msg{n}.{Guid.NewGuid():N}@example.org>\r\n" +
        "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "\r\n" +
        body);

    /// <summary>Lines that need dot-stuffing, a lone dot, and UTF-8 text.</summary>
    public static byte[] Tricky() => Message(0,
        ".starts with a dot\r\n" +
        ".\r\n" +
        "..two dots\r\n" +
        "Grüße — ünïcödé\r\n" +
        "last line\r\n");

    /// <summary>An HTML message with very long lines (poplib rejects lines over 2048 bytes).</summary>
    public static byte[] LongLines(int lineLength, int lines) => Message(99,
        string.Concat(Enumerable.Range(0, lines).Select(i => new string((char)('a' + i % 26), lineLength) + "\r\n")));
}
