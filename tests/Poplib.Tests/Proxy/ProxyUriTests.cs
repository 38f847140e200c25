using System.Net;

namespace Poplib.Tests.Proxy;

/// <summary>Pop3Proxy.FromUri: each scheme, defaults, percent-decoding, refusals, and the masked ToString.</summary>
public sealed class ProxyUriTests
{
    [Theory]
    [InlineData("socks5://proxy.example.org", typeof(Socks5Proxy), "proxy.example.org", 1080, "socks5://proxy.example.org:1080")]
    [InlineData("socks5h://a%40b:p%3Ass%40w@proxy.example.org:9050", typeof(Socks5Proxy), "proxy.example.org", 9050, "socks5://a%40b:****@proxy.example.org:9050")]
    [InlineData("SOCKS4A://id@10.0.0.1", typeof(Socks4aProxy), "10.0.0.1", 1080, "socks4a://id@10.0.0.1:1080")]
    [InlineData("http://user:secret@[::1]:3128", typeof(HttpConnectProxy), "::1", 3128, "http://user:****@[::1]:3128")]
    [InlineData("http://proxy.example.org/", typeof(HttpConnectProxy), "proxy.example.org", 80, "http://proxy.example.org:80")]
    public void Each_scheme(string url, Type type, string host, int port, string shown)
    {
        Pop3Proxy proxy = Pop3Proxy.FromUri(new Uri(url));
        Assert.IsType(type, proxy);
        Assert.Equal(host, proxy.Host);
        Assert.Equal(port, proxy.Port);
        Assert.Equal(shown, proxy.ToString());
    }

    [Fact]
    public void Credentials_are_percent_decoded()
    {
        var proxy = (Socks5Proxy)Pop3Proxy.FromUri(new Uri("socks5://a%40b:p%3Ass%40w@proxy.example.org"));
        Assert.Equal("a@b", proxy.Credentials!.UserName);
        Assert.Equal("p:ss@w", proxy.Credentials.Password);
        var http = (HttpConnectProxy)Pop3Proxy.FromUri(new Uri("http://u:%C3%BC@h:1"));
        Assert.Equal("ü", http.Credentials!.Password);
    }

    [Theory]
    [InlineData("https://u:secret@proxy:443", "Unknown proxy scheme \"https\" in https://u:****@proxy")]
    [InlineData("ftp://proxy", "Unknown proxy scheme \"ftp\"")]
    [InlineData("socks4a://u:secret@proxy", "SOCKS4a has no passwords, only a user id: socks4a://u:****@proxy")]
    [InlineData("socks5://u:secret@proxy/path", "A proxy URL has no path, query or fragment: socks5://u:****@proxy/path")]
    [InlineData("http://proxy:3128?x=1", "no path, query or fragment")]
    [InlineData("socks5://u@proxy", "A SOCKS5 user name goes with a password (RFC 1929)")]
    public void Refused_with_the_password_masked(string url, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => Pop3Proxy.FromUri(new Uri(url)));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("secret", e.Message);
    }

    [Fact]
    public void Constructors_check_what_the_protocols_can_carry()
    {
        Assert.Throws<ArgumentException>(() => new Socks5Proxy("p", 1080, new NetworkCredential(new string('u', 256), "x")));
        Assert.Throws<ArgumentException>(() => new Socks5Proxy("p", 1080, new NetworkCredential("u", "")));
        Assert.Throws<ArgumentException>(() => new HttpConnectProxy("p", 80, new NetworkCredential("a:b", "x")));
        Assert.Throws<ArgumentException>(() => new Socks4aProxy("p", 1080, "has space"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Socks5Proxy("p", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpConnectProxy("p", 65536));
    }
}
