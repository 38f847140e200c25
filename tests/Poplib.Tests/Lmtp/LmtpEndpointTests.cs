using Poplib.Fetch.Delivery.Lmtp;

namespace Poplib.Tests.Lmtp;

public class LmtpEndpointTests
{
    [Theory]
    [InlineData("127.0.0.1:24", "127.0.0.1", 24)]
    [InlineData("localhost:2424", "localhost", 2424)]
    [InlineData("mail.example.org:65535", "mail.example.org", 65535)]
    [InlineData("[::1]:24", "::1", 24)]
    [InlineData("[2001:db8::5]:1", "2001:db8::5", 1)]
    public void Tcp_addresses_parse(string text, string host, int port)
    {
        LmtpEndpoint endpoint = LmtpEndpoint.Parse(text);
        Assert.False(endpoint.IsUnixSocket);
        Assert.Equal(host, endpoint.Host);
        Assert.Equal(port, endpoint.Port);
        Assert.Equal(text, endpoint.ToString());
    }

    [Fact]
    public void A_unix_socket_parses()
    {
        LmtpEndpoint endpoint = LmtpEndpoint.Parse("unix:/var/run/dovecot/lmtp");
        Assert.True(endpoint.IsUnixSocket);
        Assert.Equal("/var/run/dovecot/lmtp", endpoint.SocketPath);
        Assert.Null(endpoint.Host);
        Assert.Equal("unix:/var/run/dovecot/lmtp", endpoint.ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("localhost", "port is missing")]
    [InlineData("localhost:", "port is missing")]
    [InlineData(":24", "host is missing")]
    [InlineData("localhost:0", "not a number from 1 to 65535")]
    [InlineData("localhost:65536", "not a number from 1 to 65535")]
    [InlineData("localhost:-1", "not a number from 1 to 65535")]
    [InlineData("localhost:2x", "not a number from 1 to 65535")]
    [InlineData("localhost:+24", "not a number from 1 to 65535")]
    [InlineData("::1:24", "must be written in brackets")]
    [InlineData("[::1]", "port is missing")]
    [InlineData("[::1]24", "port is missing")]
    [InlineData("[::1:24", "has no ']'")]
    [InlineData("[127.0.0.1]:24", "not an IPv6 address")]
    [InlineData("unix:", "socket path is missing")]
    [InlineData("unix:run/lmtp", "must be absolute")]
    [InlineData("unix:/run/", "names a directory")]
    [InlineData("local host:24", "space or a control character")]
    [InlineData("host\r\n:24", "space or a control character")]
    [InlineData("bad_host!:24", "not a host name")]
    public void Mistakes_are_format_errors_that_say_what_is_wrong(string text, string why)
    {
        var e = Assert.Throws<FormatException>(() => LmtpEndpoint.Parse(text));
        Assert.Contains(why, e.Message);
        Assert.DoesNotContain("\r", e.Message);
    }

    [Fact]
    public void A_unix_path_longer_than_a_socket_address_holds_is_refused()
    {
        var e = Assert.Throws<FormatException>(() => LmtpEndpoint.Parse("unix:/" + new string('a', 120)));
        Assert.Contains("107 bytes", e.Message);
    }
}
