using Poplib.Testing.Tests.Infrastructure;

namespace Poplib.Testing.Tests.Limits;

public class LimitTests
{
    [Fact]
    public async Task An_overlong_command_line_is_refused_and_the_connection_closed()
    {
        await using Pop3TestServer server = TestServer.Start(new Pop3TestServerOptions { MaxLineLength = 300 });
        using RawConnection raw = await RawConnection.OpenAsync(server);
        await raw.ReadLineAsync();
        await raw.SendAsync("NOOP " + new string('x', 296) + "\r\n"); // 301 octets
        Assert.Equal("-ERR Command line too long (the limit is 300 octets).", await raw.ReadLineAsync());
        Assert.Null(await raw.ReadLineAsync());
    }

    [Fact]
    public async Task A_line_at_the_limit_is_fine()
    {
        await using Pop3TestServer server = TestServer.Start(new Pop3TestServerOptions { MaxLineLength = 300 });
        using RawConnection raw = await RawConnection.OpenAsync(server);
        await raw.ReadLineAsync();
        await raw.SendAsync("USER " + new string('x', 295) + "\r\n");
        Assert.Equal("+OK", await raw.ReadLineAsync());
    }

    [Fact]
    public async Task A_line_without_end_is_not_buffered_forever()
    {
        await using Pop3TestServer server = TestServer.Start(new Pop3TestServerOptions { MaxLineLength = 300 });
        using RawConnection raw = await RawConnection.OpenAsync(server);
        await raw.ReadLineAsync();
        await raw.SendAsync(new string('x', 100_000));
        Assert.StartsWith("-ERR Command line too long", await raw.ReadLineAsync());
        Assert.Null(await raw.ReadLineAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connections_beyond_MaxConnections_are_turned_away(bool async)
    {
        await using Pop3TestServer server = TestServer.Start(new Pop3TestServerOptions { MaxConnections = 1 });
        Pop3Client first = await TestServer.LogIn(async, server);
        Assert.Equal(1, server.ActiveSessions);

        using (RawConnection raw = await RawConnection.OpenAsync(server))
        {
            Assert.Equal("-ERR [SYS/TEMP] too many connections", await raw.ReadLineAsync());
            Assert.Null(await raw.ReadLineAsync());
        }

        var refused = await Assert.ThrowsAnyAsync<Pop3Exception>(() => TestServer.Connect(async, server));
        Assert.Contains("too many connections", refused.Message, StringComparison.Ordinal);

        first.Dispose();
        await Protocol.DeletionTests.Eventually(() => server.ActiveSessions == 0);
        using Pop3Client next = await TestServer.LogIn(async, server);
        Assert.True(next.IsAuthenticated);
    }

    [Fact]
    public async Task An_idle_session_is_logged_out_without_committing()
    {
        await using Pop3TestServer server = TestServer.Start(out Pop3MemoryMailbox mailbox, new Pop3TestServerOptions { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        using RawConnection raw = await RawConnection.OpenAsync(server);
        await raw.ReadLineAsync();
        await raw.SendAsync("USER alice\r\nPASS secret\r\nDELE 1\r\n");
        Assert.Equal("+OK", await raw.ReadLineAsync());
        Assert.StartsWith("+OK Logged in", await raw.ReadLineAsync());
        Assert.Equal("+OK Message 1 deleted.", await raw.ReadLineAsync());

        Assert.Equal("-ERR Disconnected for inactivity.", await raw.ReadLineAsync(TimeSpan.FromSeconds(5)));
        Assert.Null(await raw.ReadLineAsync());
        await Protocol.DeletionTests.Eventually(() => server.ActiveSessions == 0);
        Assert.Equal(3, mailbox.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Disposing_the_server_closes_open_sessions(bool async)
    {
        Pop3TestServer server = TestServer.Start();
        using Pop3Client client = await TestServer.LogIn(async, server);
        Task disposal = server.DisposeAsync().AsTask();
        await disposal.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, server.ActiveSessions);
        await Assert.ThrowsAnyAsync<Exception>(() => Both.Run(async, () => client.Noop(), () => client.NoopAsync()));
    }

    [Fact]
    public async Task Idle_timeout_while_waiting_for_a_sasl_response_ends_the_session()
    {
        await using Pop3TestServer server = TestServer.Start(new Pop3TestServerOptions { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        using RawConnection raw = await RawConnection.OpenAsync(server);
        await raw.ReadLineAsync();
        await raw.SendAsync("AUTH PLAIN\r\n");
        Assert.Equal("+", (await raw.ReadLineAsync())!.Trim());
        Assert.Equal("-ERR Disconnected for inactivity.", await raw.ReadLineAsync(TimeSpan.FromSeconds(5)));
        Assert.Null(await raw.ReadLineAsync(TimeSpan.FromSeconds(5)));
    }
}
