using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Poplib.Tests.Interop;

/// <summary>
/// The Courier POP3 server of the shared lab (<c>pop3-servers/courier/start.sh</c>, which
/// <c>scripts/courier.sh</c> and <c>scripts/test.sh</c> run as root): plain with STLS on
/// 127.0.0.1:14110, implicit TLS on 14995, user <c>alice</c> / <c>secret-pass</c>, a self-signed
/// certificate for localhost and 127.0.0.1. The ports and the lab's folder follow the variables the
/// lab's script reads (<c>COURIER_PORT</c>, <c>COURIER_TLS_PORT</c>, <c>POP3LAB_RUN</c>).
/// </summary>
public static class Courier
{
    public const string Host = "127.0.0.1";
    public const string User = "alice";
    public const string Password = "secret-pass";

    private static readonly Lazy<bool> Running = new(() => Greets(PlainPort));

    public static int PlainPort => Port("COURIER_PORT", 14110);

    public static int TlsPort => Port("COURIER_TLS_PORT", 14995);

    /// <summary>The lab's certificate: trusted explicitly, as the only root, by every test.</summary>
    public static string CertificatePath =>
        Path.Combine(Environment.GetEnvironmentVariable("POP3LAB_RUN") is { Length: > 0 } run ? run : "/tmp/pop3lab", "tls", "cert.pem");

    public static bool IsRunning => Running.Value;

    public static Pop3ClientOptions Options(bool allowInsecure = false) => new()
    {
        SslOptions = Infrastructure.TestCertificates.Trusting(X509CertificateLoader.LoadCertificateFromFile(CertificatePath)),
        AllowInsecureAuthentication = allowInsecure,
        Timeout = TimeSpan.FromSeconds(10),
    };

    internal static string? SkipReason =>
        IsRunning || DovecotFactAttribute.IsCi
            ? null
            : $"Courier is not running on {Host}:{PlainPort} (scripts/test.sh starts it as root; or: sudo scripts/courier.sh start).";

    private static int Port(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out int port) ? port : fallback;

    // Whether a POP3 server answers there within a second or two (a closed port fails at once).
    private static bool Greets(int port)
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
}

/// <summary>A test that needs Courier: skipped, with the reason, when it is not running — except under CI (<c>CI=true</c>), where it must run.</summary>
public sealed class CourierTheoryAttribute : TheoryAttribute
{
    public CourierTheoryAttribute() => Skip = Courier.SkipReason;
}
