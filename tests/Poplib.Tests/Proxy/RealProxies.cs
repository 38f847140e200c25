using System.Net;

namespace Poplib.Tests.Proxy;

/// <summary>
/// The real proxies of <c>scripts/proxies.sh</c>, started once in a temporary folder for the proxy tests
/// and stopped after them: Dante as SOCKS5 with and without user/password, tinyproxy as HTTP CONNECT with
/// and without Basic authentication, all on 127.0.0.1.
/// </summary>
public sealed class RealProxies : IDisposable
{
    private readonly Lazy<Dictionary<string, string>> _env;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "poplib-proxies-" + Guid.NewGuid().ToString("N")[..12]);

    public RealProxies() => _env = new(Start);

    /// <summary>Whether the proxies can run here: Dante and tinyproxy installed (scripts/install-deps.sh), and root (the script needs it).</summary>
    public static bool CanRun => File.Exists("/usr/sbin/danted") && File.Exists("/usr/bin/tinyproxy") && Environment.UserName == "root";

    public int Socks5Port => Port("SOCKS5_PORT");

    public int Socks5AuthPort => Port("SOCKS5_AUTH_PORT");

    public int HttpPort => Port("HTTP_PORT");

    public int HttpAuthPort => Port("HTTP_AUTH_PORT");

    /// <summary>The user both authenticating proxies accept (a system user for Dante, BasicAuth for tinyproxy).</summary>
    public NetworkCredential Credentials => new(_env.Value["PROXY_USER"], _env.Value["PROXY_PASSWORD"]);

    public Socks5Proxy Socks5(NetworkCredential? credentials = null) => new("127.0.0.1", Socks5Port, credentials);

    public Socks5Proxy Socks5Auth(NetworkCredential? credentials) => new("127.0.0.1", Socks5AuthPort, credentials);

    public HttpConnectProxy Http() => new("127.0.0.1", HttpPort);

    public HttpConnectProxy HttpAuth(NetworkCredential? credentials) => new("127.0.0.1", HttpAuthPort, credentials);

    public void Dispose()
    {
        if (!_env.IsValueCreated)
            return;
        try
        {
            Run("stop");
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            // Left for inspection; the next run uses another folder.
        }
    }

    private int Port(string key) => int.Parse(_env.Value[key]);

    private Dictionary<string, string> Start()
    {
        Run("start");
        return File.ReadAllLines(Path.Combine(_directory, "env"))
            .Where(l => l.Contains('='))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);
    }

    private void Run(string verb) => Infrastructure.ProjectScripts.RunChecked("proxies.sh", verb, _directory);
}

[CollectionDefinition(nameof(RealProxyCollection))]
public sealed class RealProxyCollection : ICollectionFixture<RealProxies>, ICollectionFixture<Interop.DovecotFixture>;

/// <summary>
/// A test against the real proxies (and Dovecot). Skipped on a developer's machine without them or
/// without root; under CI (<c>CI=true</c>) it runs, and fails if they cannot start.
/// </summary>
public sealed class RealProxyTheoryAttribute : TheoryAttribute
{
    public RealProxyTheoryAttribute()
    {
        if (!(RealProxies.CanRun && Interop.DovecotInstance.IsInstalled) && !Interop.DovecotFactAttribute.IsCi)
            Skip = "Dante, tinyproxy or Dovecot is not installed, or not root (run scripts/install-deps.sh as root).";
    }
}
