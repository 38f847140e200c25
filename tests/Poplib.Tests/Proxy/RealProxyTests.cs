using System.Net;
using System.Net.Sockets;
using Poplib.Testing;
using Poplib.Tests.Infrastructure;
using Poplib.Tests.Interop;

namespace Poplib.Tests.Proxy;

/// <summary>
/// Every kind of proxy, the real thing (Dante, tinyproxy; SOCKS4a our own relay), in front of the
/// in-process test server and of Dovecot: plain, STLS and implicit TLS through the tunnel with the
/// server's certificate trusted explicitly and checked against the server's name, sync and async. The
/// server is named "localhost" wherever the proxy resolves names, so the proxy does the lookup.
/// </summary>
[Collection(nameof(RealProxyCollection))]
public sealed class RealProxyTests(RealProxies proxies, DovecotFixture dovecot) : IAsyncLifetime
{
    private Socks4aTestProxy _socks4a = null!;

    public Task InitializeAsync()
    {
        _socks4a = new Socks4aTestProxy();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _socks4a.DisposeAsync();

    public static TheoryData<bool, string, bool> KindsAndTls()
    {
        var data = new TheoryData<bool, string, bool>();
        foreach (string kind in new[] { "socks5", "socks5-auth", "socks4a", "socks4-dante", "http", "http-auth" })
        {
            foreach (bool implicitTls in new[] { false, true })
            {
                data.Add(false, kind, implicitTls);
                data.Add(true, kind, implicitTls);
            }
        }

        return data;
    }

    // socks4-dante: Dante speaks SOCKS4 but does not resolve names for it, so it gets an address.
    private (Pop3Proxy Proxy, string Host) Through(string kind) => kind switch
    {
        "socks5" => (proxies.Socks5(), "localhost"),
        "socks5-auth" => (proxies.Socks5Auth(proxies.Credentials), "localhost"),
        "socks4a" => (new Socks4aProxy("127.0.0.1", _socks4a.Port, "poplib"), "localhost"),
        "socks4-dante" => (new Socks4aProxy("127.0.0.1", proxies.Socks5Port), "127.0.0.1"),
        "http" => (proxies.Http(), "localhost"),
        "http-auth" => (proxies.HttpAuth(proxies.Credentials), "localhost"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [RealProxyTheory]
    [MemberData(nameof(KindsAndTls))]
    public async Task Test_server_through_each_proxy(bool async, string kind, bool implicitTls)
    {
        byte[][] messages = [SampleMail.Message(1), SampleMail.Tricky()];
        await using Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions
        {
            Tls = implicitTls ? Pop3TlsMode.Implicit : Pop3TlsMode.StartTls,
            AllowPlaintextWithoutTls = false,
        });
        server.AddUser("alice", "secret", Pop3Mailbox.FromMessages(messages));
        (Pop3Proxy proxy, string host) = Through(kind);
        var options = new Pop3ClientOptions { Proxy = proxy, SslOptions = TestCertificates.Trusting(server.Certificate), Timeout = TimeSpan.FromSeconds(20) };

        await SessionAsync(async, host, server.Port, implicitTls, options, "alice", "secret", messages);
        if (kind == "socks4a")
            Assert.Contains(("poplib", "localhost"), _socks4a.Requests);
    }

    [RealProxyTheory]
    [MemberData(nameof(KindsAndTls))]
    public async Task Dovecot_through_each_proxy(bool async, string kind, bool implicitTls)
    {
        DovecotInstance server = dovecot.Server;
        byte[][] messages = [SampleMail.Message(1), SampleMail.LongLines(10_000, 3)];
        var (user, password) = server.AddUser(messages);
        (Pop3Proxy proxy, string host) = Through(kind);
        Pop3ClientOptions options = server.Options();
        options.Proxy = proxy;

        await SessionAsync(async, host, implicitTls ? server.TlsPort : server.PlainPort, implicitTls, options, user, password, messages);
    }

    /// <summary>Connects through the proxy in <paramref name="options"/>, then STLS when needed, login over TLS, every message byte for byte, QUIT.</summary>
    internal static async Task SessionAsync(bool async, string host, int port, bool implicitTls, Pop3ClientOptions options, string user, string password, byte[][] messages)
    {
        using Pop3Client client = implicitTls
            ? await Both.Run(async, () => Pop3Client.ConnectSsl(host, port, options), () => Pop3Client.ConnectSslAsync(host, port, options))
            : await Both.Run(async, () => Pop3Client.Connect(host, port, options), () => Pop3Client.ConnectAsync(host, port, options));
        Assert.Equal(host, client.Host);
        Assert.Equal(port, client.Port);
        await OverStream.ConnectOverStreamTests.SessionAsync(async, client, implicitTls, user, password, messages);
    }

    [RealProxyTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Socks5_wrong_password_is_refused_and_never_quoted(bool async)
    {
        var wrong = new NetworkCredential(proxies.Credentials.UserName, "not-the-password-Zq9x");
        var e = await ConnectFails<Pop3ProxyException>(async, proxies.Socks5Auth(wrong), "localhost", dovecot.Server.PlainPort);
        Assert.Equal(Pop3ProxyFailure.AuthenticationFailed, e.Reason);
        Assert.Contains($"socks5://{wrong.UserName}:****@127.0.0.1:{proxies.Socks5AuthPort}", e.Message);
        Assert.Contains("refused the user name and password", e.Message);
        Assert.DoesNotContain("Zq9x", e.ToString());
    }

    [RealProxyTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Socks5_proxy_that_needs_credentials_says_so(bool async)
    {
        var e = await ConnectFails<Pop3ProxyException>(async, proxies.Socks5Auth(null), "localhost", dovecot.Server.PlainPort);
        Assert.Equal(Pop3ProxyFailure.AuthenticationFailed, e.Reason);
        Assert.Equal(0xFF, e.ReplyCode);
        Assert.Contains("requires authentication", e.Message);
    }

    [RealProxyTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Http_407_without_or_with_wrong_credentials(bool async, bool withWrongCredentials)
    {
        NetworkCredential? credentials = withWrongCredentials ? new NetworkCredential(proxies.Credentials.UserName, "not-the-password-Zq9x") : null;
        var e = await ConnectFails<Pop3ProxyException>(async, proxies.HttpAuth(credentials), "localhost", dovecot.Server.PlainPort);
        Assert.Equal(Pop3ProxyFailure.AuthenticationFailed, e.Reason);
        // tinyproxy asks with 407, and answers wrong credentials with 401.
        Assert.Equal(withWrongCredentials ? 401 : 407, e.ReplyCode);
        Assert.Contains(withWrongCredentials ? "refused the user name and password" : "requires authentication", e.Message);
        Assert.Contains("\"HTTP/1.", e.Message);
        Assert.DoesNotContain("Zq9x", e.ToString());
    }

    public static TheoryData<bool, string> Kinds() => Both.Paths("socks5", "socks4a", "http");

    [RealProxyTheory]
    [MemberData(nameof(Kinds))]
    public async Task A_closed_server_port_is_the_proxys_refusal(bool async, string kind)
    {
        int closed = ClosedPort();
        var e = await ConnectFails<Pop3ProxyException>(async, Through(kind).Proxy, "127.0.0.1", closed);
        Assert.Equal(Pop3ProxyFailure.ConnectFailed, e.Reason);
        Assert.NotNull(e.ReplyCode);
        Assert.Contains($"127.0.0.1:{closed}", e.Message);
    }

    [RealProxyTheory]
    [MemberData(nameof(Kinds))]
    public async Task A_name_only_the_proxy_could_resolve_is_left_to_the_proxy(bool async, string kind)
    {
        // Looked up here, the name would fail with a SocketException (host not found) before any
        // proxy was asked; sent to the proxy, it is the proxy's refusal.
        var e = await ConnectFails<Pop3ProxyException>(async, Through(kind).Proxy, "no-such-host.invalid", 110);
        Assert.Equal(Pop3ProxyFailure.ConnectFailed, e.Reason);
        Assert.Contains("no-such-host.invalid:110", e.Message);
        if (kind == "socks4a")
            Assert.Contains(("poplib", "no-such-host.invalid"), _socks4a.Requests);
    }

    [RealProxyTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_proxy_that_is_not_there_is_named(bool async)
    {
        var proxy = new Socks5Proxy("127.0.0.1", ClosedPort(), new NetworkCredential("u", "secret-Zq9x"));
        var e = await ConnectFails<Pop3ProxyException>(async, proxy, "localhost", dovecot.Server.PlainPort);
        Assert.Equal(Pop3ProxyFailure.ProxyUnreachable, e.Reason);
        Assert.IsType<SocketException>(e.InnerException);
        Assert.Contains($"socks5://u:****@127.0.0.1:{proxy.Port}", e.Message);
        Assert.DoesNotContain("Zq9x", e.ToString());
    }

    internal static async Task<TException> ConnectFails<TException>(bool async, Pop3Proxy proxy, string host, int port)
        where TException : Exception
    {
        var options = new Pop3ClientOptions { Proxy = proxy, Timeout = TimeSpan.FromSeconds(20) };
        return async
            ? await Assert.ThrowsAsync<TException>(() => Pop3Client.ConnectAsync(host, port, options))
            : Assert.Throws<TException>(() => Pop3Client.Connect(host, port, options));
    }

    internal static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
