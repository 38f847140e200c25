using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

public class ConnectTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connect_reads_greeting_and_capabilities(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .Greet("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>")
            .Capa("TOP", "USER", "UIDL", "SASL PLAIN LOGIN", "RESP-CODES", "PIPELINING", "EXPIRE 31 USER", "LOGIN-DELAY 900", "IMPLEMENTATION Test Server 1.0"));

        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        Assert.Equal("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>", client.Welcome);
        Assert.True(client.Greeting.IsOk);
        Assert.Equal("<1896.697170952@dbc.mtview.ca.us>", client.ApopTimestamp);
        Assert.Equal(Pop3SessionState.Authorization, client.State);
        Assert.False(client.IsEncrypted);
        Pop3Capabilities caps = client.Capabilities;
        Assert.True(caps.IsSupported);
        Assert.True(caps.Top && caps.User && caps.Uidl && caps.Pipelining && caps.ResponseCodes);
        Assert.False(caps.Stls);
        Assert.Equal(["PLAIN", "LOGIN"], caps.SaslMechanisms);
        Assert.Equal(new Pop3ExpirePolicy(Never: false, Days: 31, PerUser: true), caps.Expire);
        Assert.Equal(TimeSpan.FromSeconds(900), caps.LoginDelay);
        Assert.Equal("Test Server 1.0", caps.Implementation);
        Assert.Equal(["PLAIN", "LOGIN"], caps["sasl"]);
        Assert.Empty(caps["TOP"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Server_without_CAPA_gives_empty_capabilities(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Send("+OK").On("CAPA", "-ERR unknown command"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        Assert.Equal("+OK", client.Welcome);
        Assert.Null(client.ApopTimestamp);
        Assert.False(client.Capabilities.IsSupported);
        Assert.Empty(client.Capabilities);
        Assert.True(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Capa_command_returns_typed_view_and_err_is_a_command_error(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet()
            .Capa("EXPIRENEVER", "UTF8 USER", "STLS")
            .On("CAPA", "-ERR not now"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        // GNU mailutils writes EXPIRENEVER without the space.
        Assert.Equal(new Pop3ExpirePolicy(Never: true, Days: 0, PerUser: false), client.Capabilities.Expire);
        Assert.True(client.Capabilities.Utf8User);
        Assert.True(client.Capabilities.Stls);

        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, client.Capa, () => client.CapaAsync()));
        Assert.Equal("CAPA", error.Command);
        Assert.Equal("not now", error.ResponseText);
        Assert.True(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Err_greeting_is_a_command_error(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Send("-ERR [SYS/TEMP] too busy"));
        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Connect(async, server.Port, Both.Plain()));
        Assert.Equal(Pop3ResponseCode.SysTemp, error.ResponseCode);
        Assert.Equal("SYS/TEMP", error.Response.CodeText);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Garbage_greeting_is_a_protocol_error(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Send("220 smtp.example.org ESMTP"));
        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => Both.Connect(async, server.Port, Both.Plain()));
        Assert.Contains("neither +OK nor -ERR", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task Timeout_must_be_positive(int seconds)
    {
        var options = new Pop3ClientOptions { Timeout = TimeSpan.FromSeconds(seconds) };
        Assert.Throws<ArgumentOutOfRangeException>(() => Pop3Client.Connect("127.0.0.1", 110, options));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Pop3Client.ConnectAsync("127.0.0.1", 110, options));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData((1L << 30) + 1)]
    public async Task Listing_octet_cap_must_be_positive_and_at_most_1_GiB(long octets)
    {
        var options = new Pop3ClientOptions { MaxListingOctets = octets };
        Assert.Throws<ArgumentOutOfRangeException>(() => Pop3Client.Connect("127.0.0.1", 110, options));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Pop3Client.ConnectAsync("127.0.0.1", 110, options));
    }

    [Fact]
    public async Task Top_excess_bound_cannot_be_negative()
    {
        var options = new Pop3ClientOptions { MaxTopExcessOctets = -1 };
        Assert.Throws<ArgumentOutOfRangeException>(() => Pop3Client.Connect("127.0.0.1", 110, options));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Pop3Client.ConnectAsync("127.0.0.1", 110, options));
    }

    [Fact]
    public void Bad_arguments_are_refused_before_connecting()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Pop3Client.Connect("127.0.0.1", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Pop3Client.Connect("127.0.0.1", 70000));
        Assert.Throws<ArgumentException>(() => Pop3Client.Connect(" "));
        Assert.Throws<ArgumentOutOfRangeException>(() => Pop3Client.Connect("127.0.0.1", 110, new Pop3ClientOptions { MaxLineLength = 100 }));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Refused_connection_is_a_socket_error(bool async)
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        var error = await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(() => Both.Connect(async, port, Both.Plain()));
        Assert.Equal(System.Net.Sockets.SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dispose_without_quit_sends_nothing_and_closes(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().On("DELE 1", "+OK marked").ExpectHangUp());
        Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());
        await Both.Run(async, () => client.User("alice"), () => client.UserAsync("alice"));
        await Both.Run(async, () => client.Pass("secret"), () => client.PassAsync("secret"));
        await Both.Run(async, () => client.Dele(1), () => client.DeleAsync(1));
        if (async)
            await client.DisposeAsync();
        else
            client.Dispose();

        await server.VerifyAsync();
        Assert.DoesNotContain("QUIT", server.Received);
        Assert.Equal(Pop3SessionState.Closed, client.State);
        Assert.Throws<ObjectDisposedException>(() => client.Noop());
    }
}
