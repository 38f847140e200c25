using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Poplib.Tests.Interop.Lab;

/// <summary>
/// The shared lab of real POP3 servers (<c>/work/shared/pop3-servers</c>, or <c>POP3LAB_DIR</c>): each
/// <c>NAME/start.sh [MSGS [SIZE [SEED]]]</c> installs its server if missing, starts it on 127.0.0.1
/// and fills alice's mailbox with generated messages (<c>mkmailbox.py</c>, deterministic for a seed);
/// with <c>FRESH=1</c> it generates the mailbox anew. Runtime files live under <c>POP3LAB_RUN</c>
/// (default <c>/tmp/pop3lab</c>), the certificate every server uses among them.
/// </summary>
internal static class Pop3Lab
{
    public const string Host = "127.0.0.1";
    public const string User = "alice";
    public const string Password = "secret-pass";

    private static readonly Lazy<X509Certificate2> LabCertificate = new(() => X509CertificateLoader.LoadCertificateFromFile(CertificatePath));

    public static string Directory => Environment.GetEnvironmentVariable("POP3LAB_DIR") is { Length: > 0 } dir ? dir : "/work/shared/pop3-servers";

    public static string RunDirectory => Environment.GetEnvironmentVariable("POP3LAB_RUN") is { Length: > 0 } run ? run : "/tmp/pop3lab";

    /// <summary>The lab's self-signed certificate (CN=localhost, SANs localhost and 127.0.0.1): trusted explicitly, as the only root.</summary>
    public static string CertificatePath => Path.Combine(RunDirectory, "tls", "cert.pem");

    public static X509Certificate2 Certificate => LabCertificate.Value;

    /// <summary>Under CI (<c>CI=true</c>) no interop test may skip: a server that is not there fails its tests.</summary>
    public static bool IsCi => DovecotFactAttribute.IsCi;

    public static bool IsRoot => OperatingSystem.IsLinux() && Environment.UserName == "root";

    /// <summary>
    /// Client options that verify the lab's certificate, with it as the only trusted root (when there is
    /// one: the lab makes it when it starts a server with TLS; popa3d and solid-pop3d have none).
    /// </summary>
    public static Pop3ClientOptions Options(bool allowInsecure = false) => new()
    {
        SslOptions = File.Exists(CertificatePath) ? Infrastructure.TestCertificates.Trusting(Certificate) : null,
        AllowInsecureAuthentication = allowInsecure,
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Whether a POP3 server greets with <c>+OK</c> on 127.0.0.1:<paramref name="port"/> within two seconds.</summary>
    public static bool Greets(int port)
    {
        try
        {
            using var tcp = new TcpClient();
            if (!tcp.ConnectAsync(Host, port).Wait(TimeSpan.FromSeconds(2)))
                return false;
            tcp.ReceiveTimeout = 2000;
            byte[] greeting = new byte[64];
            int read = tcp.GetStream().Read(greeting);
            tcp.GetStream().Write("QUIT\r\n"u8);
            return Encoding.ASCII.GetString(greeting, 0, read).StartsWith("+OK", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or AggregateException)
        {
            return false;
        }
    }

    /// <summary>
    /// Runs <c>NAME/start.sh COUNT SIZE SEED</c> (with <c>FRESH=1</c> when <paramref name="fresh"/>): the
    /// server is started if it is down, and its mailbox holds exactly the generated messages.
    /// Output goes to a file, never a pipe: a daemon it starts would keep a pipe open.
    /// </summary>
    public static void Start(string server, LabMailbox mailbox, bool fresh)
    {
        string script = Path.Combine(Directory, server, "start.sh");
        if (!File.Exists(script))
            throw new InvalidOperationException($"{script} not found (POP3LAB_DIR names the lab's folder).");
        string log = Path.Combine(Path.GetTempPath(), $"poplib-lab-{server}-{Environment.ProcessId}.log");
        var info = new ProcessStartInfo("bash") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec bash \"$0\" \"$@\" >\"$POPLIB_LAB_LOG\" 2>&1 </dev/null");
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(mailbox.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add(mailbox.Size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add(mailbox.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.Environment["POPLIB_LAB_LOG"] = log;
        info.Environment["FRESH"] = fresh ? "1" : "0";
        using Process process = Process.Start(info)!;
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{script} did not finish within 3 minutes; see {log}.");
        }

        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{script} {mailbox} failed ({process.ExitCode}):\n{File.ReadAllText(log)}");
        File.Delete(log);
    }
}
