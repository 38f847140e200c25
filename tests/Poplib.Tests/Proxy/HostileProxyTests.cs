using System.Diagnostics;
using System.Net;
using System.Text;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Proxy;

/// <summary>
/// Proxies that lie, stall, babble or break their protocol: each gives a typed error that names the
/// proxy and what went wrong, within the connect timeout, in bounded memory; and what the client sends
/// (the name for the proxy to resolve, the credentials, the HTTP request) is exactly the protocol's.
/// </summary>
public sealed class HostileProxyTests
{
    private static readonly NetworkCredential Alice = new("alice", "proxy-secret-Zq9x");

    private static async Task<TException> Fails<TException>(bool async, Pop3Proxy proxy, string host = "pop.example.org", double timeoutSeconds = 10)
        where TException : Exception
    {
        var options = new Pop3ClientOptions { Proxy = proxy, Timeout = TimeSpan.FromSeconds(timeoutSeconds), QueryCapabilities = false };
        TException e = async
            ? await Assert.ThrowsAsync<TException>(() => Pop3Client.ConnectAsync(host, 110, options))
            : Assert.Throws<TException>(() => Pop3Client.Connect(host, 110, options));
        Assert.DoesNotContain("Zq9x", e.ToString());
        return e;
    }

    private static async Task<Pop3ProxyException> Violation(bool async, Pop3Proxy proxy, string expected)
    {
        var e = await Fails<Pop3ProxyException>(async, proxy);
        Assert.Equal(Pop3ProxyFailure.ProtocolViolation, e.Reason);
        Assert.Contains(expected, e.Message);
        Assert.Contains($"127.0.0.1:{proxy.Port}", e.Message);
        return e;
    }

    // SOCKS5 ------------------------------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Socks5_sends_the_name_for_the_proxy_to_resolve_and_the_credentials(bool async)
    {
        await using var proxy = new HostileProxy(async c =>
        {
            await c.Read(4);                 // 5, 2 methods: none, user/password
            await c.Write(5, 2);
            await c.Read(1 + 1 + 5 + 1 + 17); // RFC 1929
            await c.Write(1, 0);
            await c.Read(4 + 1 + 15 + 2);     // CONNECT pop.example.org:110
            await c.Write(5, 0, 0, 1, 127, 0, 0, 1, 0, 110);
            await c.Write("+OK proxied\r\n");
            await c.Hang();
        });
        var options = new Pop3ClientOptions { Proxy = new Socks5Proxy("127.0.0.1", proxy.Port, Alice), QueryCapabilities = false, Timeout = TimeSpan.FromSeconds(10) };
        using Pop3Client client = await Both.Run(async, () => Pop3Client.Connect("pop.example.org", 110, options), () => Pop3Client.ConnectAsync("pop.example.org", 110, options));

        // The greeting came in the same segment as the proxy's reply: none of it was read as the reply.
        Assert.Equal("+OK proxied", client.Welcome);
        byte[] expected = [5, 2, 0, 2, 1, 5, .. "alice"u8, 17, .. "proxy-secret-Zq9x"u8, 5, 1, 0, 3, 15, .. "pop.example.org"u8, 0, 110];
        Assert.Equal(expected, proxy.Received);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Socks5_sends_addresses_as_addresses(bool async)
    {
        await using var proxy = new HostileProxy(async c =>
        {
            await c.Read(3);
            await c.Write(5, 0);
            await c.Read(4 + 16 + 2);
            await c.Write(5, 5, 0, 1, 0, 0, 0, 0, 0, 0);
        });
        var e = await Fails<Pop3ProxyException>(async, new Socks5Proxy("127.0.0.1", proxy.Port), "::1");
        Assert.Equal([5, 1, 0, 5, 1, 0, 4, .. IPAddress.IPv6Loopback.GetAddressBytes(), 0, 110], proxy.Received);
        Assert.Equal(Pop3ProxyFailure.ConnectFailed, e.Reason);
        Assert.Equal(5, e.ReplyCode);
        Assert.Contains("could not connect to [::1]:110: connection refused (SOCKS5 reply 5)", e.Message);
    }

    public static TheoryData<bool, string> Socks5Misbehaviours() => Both.Paths(
        "wrong version", "method not offered", "garbage", "closed mid-handshake", "closed mid-reply", "unknown address type", "auth version", "auth refused", "host unreachable");

    [Theory]
    [MemberData(nameof(Socks5Misbehaviours))]
    public async Task Socks5_misbehaviour_is_a_clear_error(bool async, string misbehaviour)
    {
        await using var proxy = new HostileProxy(async c =>
        {
            await c.Read(4);
            switch (misbehaviour)
            {
                case "wrong version": await c.Write(4, 0); break;
                case "method not offered": await c.Write(5, 0x01); break;
                case "garbage": await c.Write("HTTP/1.1 400 Bad Request\r\n\r\n"); break;
                case "closed mid-handshake": await c.Write(5); break;
                case "auth version" or "auth refused":
                    await c.Write(5, 2);
                    await c.Read(1 + 1 + 5 + 1 + 17);
                    await c.Write(misbehaviour == "auth version" ? (byte)5 : (byte)1, 1);
                    break;
                default:
                    await c.Write(5, 0);
                    await c.Read(4 + 1 + 15 + 2);
                    await c.Write(misbehaviour switch
                    {
                        "closed mid-reply" => [5, 0, 0, 1, 127],
                        "unknown address type" => [5, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7],
                        _ => [5, 4, 0, 1, 0, 0, 0, 0, 0, 0],
                    });
                    break;
            }
        });
        var socks = new Socks5Proxy("127.0.0.1", proxy.Port, Alice);
        Pop3ProxyException e = misbehaviour switch
        {
            "wrong version" => await Violation(async, socks, "answered with version 4 instead of SOCKS 5"),
            "method not offered" => await Violation(async, socks, "chose authentication method 0x01, which was not offered"),
            "garbage" => await Violation(async, socks, "answered with version 72 instead of SOCKS 5"),
            "closed mid-handshake" => await Violation(async, socks, "closed the connection in the middle of its choice of authentication method"),
            "closed mid-reply" => await Violation(async, socks, "closed the connection in the middle of its reply to CONNECT"),
            "unknown address type" => await Violation(async, socks, "address type 9"),
            "auth version" => await Violation(async, socks, "answered the user name and password with version 5 instead of 1"),
            _ => await Fails<Pop3ProxyException>(async, socks),
        };
        if (misbehaviour == "auth refused")
        {
            Assert.Equal(Pop3ProxyFailure.AuthenticationFailed, e.Reason);
            Assert.Contains($"The proxy socks5://alice:****@127.0.0.1:{proxy.Port} refused the user name and password for \"alice\"", e.Message);
        }
        else if (misbehaviour == "host unreachable")
        {
            Assert.Equal(Pop3ProxyFailure.ConnectFailed, e.Reason);
            Assert.Contains("could not connect to pop.example.org:110: host unreachable (SOCKS5 reply 4)", e.Message);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Socks5_proxy_choosing_a_method_without_credentials_we_did_not_offer(bool async)
    {
        await using var proxy = new HostileProxy(async c =>
        {
            await c.Read(3);
            await c.Write(5, 2);
        });
        await Violation(async, new Socks5Proxy("127.0.0.1", proxy.Port), "chose authentication method 0x02, which was not offered");
        Assert.Equal([5, 1, 0], proxy.Received);
    }

    // The whole handshake, not each read, is bounded by the connect timeout: a proxy that answers a
    // byte every 300 ms, each read well inside the timeout, is stopped after 1 s all the same.
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task A_silent_or_dribbling_proxy_is_stopped_at_the_connect_timeout(bool async, bool dribble)
    {
        await using var proxy = new HostileProxy(async c =>
        {
            await c.Read(3);
            if (!dribble)
            {
                await c.Hang();
                return;
            }

            foreach (byte b in new byte[] { 5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0 })
            {
                await Task.Delay(300, c.Stop);
                await c.Write(b);
            }

            await c.Hang();
        });
        var stopwatch = Stopwatch.StartNew();
        var e = await Fails<TimeoutException>(async, new Socks5Proxy("127.0.0.1", proxy.Port), timeoutSeconds: 1);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
        Assert.Contains($"The handshake with the proxy socks5://127.0.0.1:{proxy.Port} took longer than the connect timeout of 1 s", e.Message);
    }

    // SOCKS4a -----------------------------------------------------------------------------------

    public static TheoryData<bool, string> Socks4Misbehaviours() => Both.Paths("request", "wrong version", "rejected", "closed mid-reply");

    [Theory]
    [MemberData(nameof(Socks4Misbehaviours))]
    public async Task Socks4a_request_and_misbehaviour(bool async, string misbehaviour)
    {
        await using var proxy = new HostileProxy(async c =>
        {
            await c.Read(8 + 6 + 16);
            await c.Write(misbehaviour switch
            {
                "wrong version" => [4, 90, 0, 0, 0, 0, 0, 0],
                "rejected" or "request" => [0, 91, 0, 0, 0, 0, 0, 0],
                _ => [0, 90, 0],
            });
        });
        var socks = new Socks4aProxy("127.0.0.1", proxy.Port, "alice");
        if (misbehaviour == "wrong version")
        {
            await Violation(async, socks, "answered with version 4 instead of 0 (SOCKS4)");
        }
        else if (misbehaviour == "closed mid-reply")
        {
            await Violation(async, socks, "closed the connection in the middle of its reply");
        }
        else
        {
            var e = await Fails<Pop3ProxyException>(async, socks);
            Assert.Equal(Pop3ProxyFailure.ConnectFailed, e.Reason);
            Assert.Equal(91, e.ReplyCode);
            Assert.Contains($"The proxy socks4a://alice@127.0.0.1:{proxy.Port} could not connect to pop.example.org:110: request rejected or failed (SOCKS4 reply 91)", e.Message);
            // VN 4, CONNECT, port 110, 0.0.0.1 (a name follows), the user id, the name: the proxy resolves it.
            Assert.Equal([4, 1, 0, 110, 0, 0, 0, 1, .. "alice"u8, 0, .. "pop.example.org"u8, 0], proxy.Received);
        }
    }

    // HTTP CONNECT ------------------------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Http_request_is_exactly_CONNECT_with_Basic_and_the_greeting_after_the_reply_is_kept(bool async)
    {
        await using var proxy = new HostileProxy(async c =>
        {
            await c.ReadHttpRequest();
            await c.Write("HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n+OK proxied\r\n");
            await c.Hang();
        });
        var options = new Pop3ClientOptions { Proxy = new HttpConnectProxy("127.0.0.1", proxy.Port, Alice), QueryCapabilities = false, Timeout = TimeSpan.FromSeconds(10) };
        using Pop3Client client = await Both.Run(async, () => Pop3Client.Connect("pop.example.org", 110, options), () => Pop3Client.ConnectAsync("pop.example.org", 110, options));

        Assert.Equal("+OK proxied", client.Welcome);
        string basic = Convert.ToBase64String("alice:proxy-secret-Zq9x"u8.ToArray());
        Assert.Equal($"CONNECT pop.example.org:110 HTTP/1.1\r\nHost: pop.example.org:110\r\nProxy-Authorization: Basic {basic}\r\n\r\n", Encoding.ASCII.GetString(proxy.Received));
    }

    public static TheoryData<bool, string> HttpMisbehaviours() => Both.Paths(
        "endless headers", "endless header line", "huge status line", "not http", "escape sequences", "forbidden", "closed mid-header");

    [Theory]
    [MemberData(nameof(HttpMisbehaviours))]
    public async Task Http_misbehaviour_is_a_clear_error_in_bounded_memory(bool async, string misbehaviour)
    {
        await using var proxy = new HostileProxy(async c =>
        {
            await c.ReadHttpRequest();
            switch (misbehaviour)
            {
                case "endless headers":
                    await c.Write("HTTP/1.1 200 OK\r\n");
                    while (true)
                        await c.Write("X-Padding: 0123456789\r\n");
                case "endless header line":
                    await c.Write("HTTP/1.1 200 OK\r\nX-Padding: ");
                    while (true)
                        await c.Write(new byte[4096].Select(_ => (byte)'a').ToArray());
                case "huge status line":
                    await c.Write("HTTP/1.1 200 " + new string('a', 1 << 20) + "\r\n\r\n");
                    break;
                case "not http": await c.Write("SSH-2.0-OpenSSH_9.2\r\n\r\n"); break;
                case "escape sequences": await c.Write("\x1b]0;owned\x07HTTP/1.1 200\r\n\r\n"); break;
                case "forbidden": await c.Write(Encoding.UTF8.GetBytes("HTTP/1.1 403 Forbidden \x1b[31mby policy\u202e\r\nContent-Length: 0\r\n\r\n")); break;
                default: await c.Write("HTTP/1.1 200 OK\r\nX-Half: "); break;
            }
        });
        var http = new HttpConnectProxy("127.0.0.1", proxy.Port, Alice);
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        Pop3ProxyException e = misbehaviour switch
        {
            "endless headers" => await Violation(async, http, "sent a reply header of more than 100 lines"),
            "endless header line" or "huge status line" => await Violation(async, http, "sent a reply header longer than 16384 octets"),
            "not http" => await Violation(async, http, "did not answer in HTTP: \"SSH-2.0-OpenSSH_9.2\""),
            "escape sequences" => await Violation(async, http, "did not answer in HTTP: \"\\x1B]0;owned\\x07HTTP/1.1 200\""),
            "closed mid-header" => await Violation(async, http, "closed the connection in the middle of its reply header"),
            _ => await Fails<Pop3ProxyException>(async, http),
        };
        // The header is read an octet at a time, so a Debug build (whose async state machines are
        // objects) allocates ~250 B per octet, up to the 16 KiB limit: 4 MB. A reader without the limit
        // would never return from the endless replies, and would allocate 250 MB for the 1 MiB status line.
        if (!async)
            Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - allocated, 0, 16 * 1024 * 1024);
        if (misbehaviour == "forbidden")
        {
            Assert.Equal(Pop3ProxyFailure.ConnectFailed, e.Reason);
            Assert.Equal(403, e.ReplyCode);
            Assert.Contains("refused to connect to pop.example.org:110: \"HTTP/1.1 403 Forbidden \\x1B[31mby policy\\u202E\"", e.Message);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Http_writes_an_IPv6_server_in_brackets(bool async)
    {
        await using var proxy = new HostileProxy(async c =>
        {
            await c.ReadHttpRequest();
            await c.Write("HTTP/1.0 502 Bad Gateway\r\n\r\n");
        });
        var e = await Fails<Pop3ProxyException>(async, new HttpConnectProxy("127.0.0.1", proxy.Port), "::1");
        Assert.Equal("CONNECT [::1]:110 HTTP/1.1\r\nHost: [::1]:110\r\n\r\n", Encoding.ASCII.GetString(proxy.Received));
        Assert.Equal(502, e.ReplyCode);
    }

    // The server's name ------------------------------------------------------------------------

    [Theory]
    [InlineData(false, "pop.example.org\r\nX-Injected: 1")]
    [InlineData(true, "pop.example.org\r\nX-Injected: 1")]
    [InlineData(false, "pop example.org")]
    [InlineData(true, "a/b")]
    public async Task A_server_name_that_could_smuggle_anything_is_refused_before_the_proxy_is_asked(bool async, string host)
    {
        await using var proxy = new HostileProxy(c => c.Hang());
        await Fails<ArgumentException>(async, new HttpConnectProxy("127.0.0.1", proxy.Port), host);
        Assert.Equal(0, proxy.Connections);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_internationalized_name_goes_to_the_proxy_in_its_ascii_form(bool async)
    {
        await using var proxy = new HostileProxy(async c =>
        {
            await c.ReadHttpRequest();
            await c.Write("HTTP/1.1 404 Not Found\r\n\r\n");
        });
        await Fails<Pop3ProxyException>(async, new HttpConnectProxy("127.0.0.1", proxy.Port), "pöp.example.org");
        Assert.StartsWith("CONNECT xn--pp-fka.example.org:110 HTTP/1.1\r\n", Encoding.ASCII.GetString(proxy.Received));
    }
}
