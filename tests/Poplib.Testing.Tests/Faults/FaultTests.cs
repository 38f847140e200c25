using System.Text;
using Poplib.Testing.Tests.Infrastructure;

namespace Poplib.Testing.Tests.Faults;

/// <summary>Each injected fault, and what the real Poplib client does about it.</summary>
public class FaultTests
{
    private static Pop3TestServer StartWith(params Pop3Fault[] faults) =>
        TestServer.Start(new Pop3TestServerOptions { Faults = faults });

    [Theory]
    [InlineData(false, 10)]
    [InlineData(true, 10)]
    [InlineData(false, 0)]
    [InlineData(true, 1_000)] // more than the message: cut just before the terminating dot
    public async Task DisconnectAfterBytes_is_a_protocol_error_never_a_short_message(bool async, long bytes)
    {
        await using Pop3TestServer server = StartWith(new DisconnectAfterBytes(2, bytes));
        using Pop3Client client = await TestServer.LogIn(async, server);
        await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1)); // other messages are fine

        await Assert.ThrowsAsync<Pop3ProtocolException>(() => Both.Run(async, () => client.Retr(2), () => client.RetrAsync(2)));
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DisconnectAfterBytes_while_streaming_throws_instead_of_ending_the_stream(bool async)
    {
        byte[] big = Encoding.ASCII.GetBytes("Subject: big\n\n" + string.Concat(Enumerable.Repeat("0123456789abcdef\n", 20_000)));
        await using Pop3TestServer server = TestServer.Start(new Pop3TestServerOptions { Faults = [new DisconnectAfterBytes(1, 100_000)] }, [big]);
        using Pop3Client client = await TestServer.LogIn(async, server);
        var destination = new MemoryStream();
        await Assert.ThrowsAsync<Pop3ProtocolException>(() => Both.Run(async, () => client.RetrTo(1, destination), () => client.RetrToAsync(1, destination)));
        Assert.Equal(100_000, destination.Length);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DelayReplies_beyond_the_client_timeout_is_a_TimeoutException(bool async)
    {
        await using Pop3TestServer server = StartWith(new DelayReplies(TimeSpan.FromSeconds(3)));
        Pop3ClientOptions options = TestServer.ClientOptions(server);
        options.Timeout = TimeSpan.FromMilliseconds(300);
        await Assert.ThrowsAsync<TimeoutException>(() => TestServer.Connect(async, server, options));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DelayReplies_within_the_timeout_only_slows_things_down(bool async)
    {
        await using Pop3TestServer server = StartWith(new DelayReplies(TimeSpan.FromMilliseconds(30)));
        using Pop3Client client = await TestServer.LogIn(async, server);
        Assert.Equal(3, (await Both.Run(async, () => client.Stat(), () => client.StatAsync())).Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OverlongReply_hits_the_client_line_limit(bool async)
    {
        await using Pop3TestServer server = StartWith(new OverlongReply("STAT", 100_000));
        using Pop3Client client = await TestServer.LogIn(async, server);
        var error = await Assert.ThrowsAsync<Pop3LimitExceededException>(() => Both.Run(async, () => client.Stat(), () => client.StatAsync()));
        Assert.Equal(nameof(Pop3ClientOptions.MaxLineLength), error.LimitName);
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BareLineFeeds_still_deliver_every_message_byte_for_byte(bool async)
    {
        await using Pop3TestServer server = StartWith(new BareLineFeeds());
        using Pop3Client client = await TestServer.LogIn(async, server);
        Assert.Equal(3, client.List().Count);
        for (int number = 1; number <= 3; number++)
        {
            int n = number;
            Pop3Message message = await Both.Run(async, () => client.Retr(n), () => client.RetrAsync(n));
            // The client keeps line endings as received: the message arrives in its LF form, dots unstuffed.
            byte[] lf = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(TestServer.SampleMessages[n - 1]).Replace("\r\n", "\n", StringComparison.Ordinal));
            Assert.Equal(lf, message.ToArray());
        }

        await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WrongListSizes_show_in_LIST_while_RETR_is_right(bool async)
    {
        await using Pop3TestServer server = StartWith(new WrongListSizes(-7));
        using Pop3Client client = await TestServer.LogIn(async, server);
        IReadOnlyList<Pop3ListEntry> list = await Both.Run(async, () => client.List(), () => client.ListAsync());
        for (int i = 0; i < 3; i++)
        {
            byte[] expected = TestServer.Crlf(TestServer.SampleMessages[i]);
            Assert.Equal(expected.Length - 7, list[i].Size);
            int number = i + 1;
            Pop3Message message = await Both.Run(async, () => client.Retr(number), () => client.RetrAsync(number));
            Assert.Equal(expected, message.ToArray());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CommandNotSupported_TOP_is_a_command_error(bool async)
    {
        await using Pop3TestServer server = StartWith(new CommandNotSupported("TOP"));
        using Pop3Client client = await TestServer.LogIn(async, server);
        Assert.False(client.Capabilities.Top);
        await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Top(1, 0), () => client.TopAsync(1, 0)));
        Assert.True(client.IsConnected);
        Assert.NotEmpty((await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1))).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CommandRefused_answers_with_its_line_and_leaves_CAPA_as_it_was(bool async)
    {
        await using Pop3TestServer server = StartWith(new CommandRefused("UIDL", "-ERR [SYS/TEMP] try later"));
        using Pop3Client client = await TestServer.LogIn(async, server);
        Assert.True(client.Capabilities.Uidl);
        var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Uidl(), () => client.UidlAsync()));
        Assert.Equal(Pop3ResponseCode.SysTemp, refused.ResponseCode);
        Assert.Equal("[SYS/TEMP] try later", refused.ResponseText);
        Assert.True(client.IsConnected);
        Assert.NotEmpty(await Both.Run(async, () => client.List(), () => client.ListAsync()));
        Assert.Throws<ArgumentException>(() => Pop3TestServer.Start(new Pop3TestServerOptions { Faults = [new CommandRefused("UIDL", "+OK fine")] }));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public async Task DeleteOnDisconnect_commits_a_DELE_without_QUIT(bool async, bool faulty)
    {
        await using Pop3TestServer server = TestServer.Start(out Pop3MemoryMailbox mailbox, new Pop3TestServerOptions { Faults = faulty ? [new DeleteOnDisconnect()] : [] });
        using (Pop3Client client = await TestServer.LogIn(async, server))
            await Both.Run(async, () => client.Dele(1), () => client.DeleAsync(1));

        await Protocol.DeletionTests.Eventually(() => server.ActiveSessions == 0);
        using Pop3Client again = await TestServer.LogIn(async, server);
        IReadOnlyList<Pop3UidlEntry> uids = await Both.Run(async, () => again.Uidl(), () => again.UidlAsync());
        Assert.Equal(faulty ? ["msg-2", "msg-3"] : ["msg-1", "msg-2", "msg-3"], uids.Select(u => u.Uid));
        Assert.Equal(faulty ? 2 : 3, mailbox.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DuplicateUidls_are_returned_as_the_server_sent_them(bool async)
    {
        // Repeated UIDs on different message numbers are legal for the client; only numbers must be unique.
        await using Pop3TestServer server = StartWith(new DuplicateUidls());
        using Pop3Client client = await TestServer.LogIn(async, server);
        IReadOnlyList<Pop3UidlEntry> uids = await Both.Run(async, () => client.Uidl(), () => client.UidlAsync());
        Assert.Equal([new(1, "msg-1"), new(2, "msg-1"), new(3, "msg-3")], uids);
        Assert.Equal(new Pop3UidlEntry(2, "msg-1"), await Both.Run(async, () => client.Uidl(2), () => client.UidlAsync(2)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LoginInUse_is_a_command_error_with_IN_USE(bool async)
    {
        await using Pop3TestServer server = StartWith(new LoginInUse());
        using Pop3Client client = await TestServer.Connect(async, server);
        await Both.Run(async, () => client.User(TestServer.User), () => client.UserAsync(TestServer.User));
        var pass = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Pass(TestServer.Password), () => client.PassAsync(TestServer.Password)));
        Assert.Equal(Pop3ResponseCode.InUse, pass.ResponseCode);
        var apop = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Apop(TestServer.User, TestServer.Password), () => client.ApopAsync(TestServer.User, TestServer.Password)));
        Assert.Equal(Pop3ResponseCode.InUse, apop.ResponseCode);
        Assert.False(client.IsAuthenticated);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GreetingWithoutTimestamp_makes_Apop_unsupported(bool async)
    {
        await using Pop3TestServer server = StartWith(new GreetingWithoutTimestamp());
        using Pop3Client client = await TestServer.Connect(async, server);
        Assert.Null(client.ApopTimestamp);
        Assert.Equal("+OK Poplib.Testing POP3 server ready", client.Welcome);
        await Assert.ThrowsAsync<NotSupportedException>(() => Both.Run(async, () => client.Apop(TestServer.User, TestServer.Password), () => client.ApopAsync(TestServer.User, TestServer.Password)));
    }

    [Theory]
    [InlineData("USER alice\r\nPASS secret\r\n", true)]
    [InlineData("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", true)]
    [InlineData("USER alice\r\nPASS secret\r\n", false)]
    public async Task DiscardInputAfterLogin_drops_what_was_pipelined_behind_a_successful_login(string login, bool faulty)
    {
        // Like Courier: "PASS …\r\nCAPA\r\n" in one write gets "+OK logged in." and then nothing for CAPA.
        await using Pop3TestServer server = StartWith(faulty ? [new DiscardInputAfterLogin()] : []);
        using RawConnection raw = await RawConnection.OpenAsync(server);
        Assert.StartsWith("+OK", await raw.ReadLineAsync());

        await raw.SendAsync(login + "CAPA\r\n");
        if (login.StartsWith("USER", StringComparison.Ordinal))
            Assert.Equal("+OK", await raw.ReadLineAsync());
        Assert.StartsWith("+OK Logged in", await raw.ReadLineAsync());
        await Task.Delay(200); // CAPA's reply, if any, has been written by now
        await raw.SendAsync("NOOP\r\n");
        Assert.Equal(faulty ? "+OK" : "+OK Capability list follows", await raw.ReadLineAsync());
    }

    [Fact]
    public async Task DiscardInputAfterLogin_leaves_a_failed_login_and_later_commands_alone()
    {
        await using Pop3TestServer server = StartWith(new DiscardInputAfterLogin());
        using RawConnection raw = await RawConnection.OpenAsync(server);
        await raw.ReadLineAsync();
        await raw.SendAsync("USER alice\r\nPASS wrong\r\nNOOP\r\n");
        Assert.Equal("+OK", await raw.ReadLineAsync());
        Assert.StartsWith("-ERR [AUTH]", await raw.ReadLineAsync());
        Assert.StartsWith("-ERR NOOP is not valid", await raw.ReadLineAsync()); // still there: no login, nothing dropped

        await raw.SendAsync("USER alice\r\n");
        Assert.Equal("+OK", await raw.ReadLineAsync());
        await raw.SendAsync("PASS secret\r\n");
        Assert.StartsWith("+OK Logged in", await raw.ReadLineAsync());
        await raw.SendAsync("STAT\r\nNOOP\r\n"); // after the login, pipelining works as ever
        Assert.StartsWith("+OK 3 ", await raw.ReadLineAsync());
        Assert.Equal("+OK", await raw.ReadLineAsync());
    }

    [Theory]
    [InlineData(false, "pass")]
    [InlineData(true, "pass")]
    [InlineData(false, "apop")]
    [InlineData(true, "login")]
    public async Task DiscardInputAfterLogin_the_client_logs_in_without_waiting_for_a_lost_reply(bool async, string method)
    {
        await using Pop3TestServer server = StartWith(new DiscardInputAfterLogin());
        Pop3ClientOptions options = TestServer.ClientOptions(server);
        options.Timeout = TimeSpan.FromSeconds(3); // a CAPA lost behind the login would end in a TimeoutException
        using Pop3Client client = await TestServer.Connect(async, server, options);
        Assert.True(client.Capabilities.Pipelining);

        switch (method)
        {
            case "pass":
                await Both.Run(async, () => client.User(TestServer.User), () => client.UserAsync(TestServer.User));
                await Both.Run(async, () => client.Pass(TestServer.Password), () => client.PassAsync(TestServer.Password));
                break;
            case "apop":
                await Both.Run(async, () => client.Apop(TestServer.User, TestServer.Password), () => client.ApopAsync(TestServer.User, TestServer.Password));
                break;
            default:
                await Both.Run(async, () => client.Login(TestServer.User, TestServer.Password), () => client.LoginAsync(TestServer.User, TestServer.Password));
                break;
        }

        Assert.True(client.IsAuthenticated);
        Assert.True(client.Capabilities.IsSupported);
        Assert.False(client.Capabilities.User); // read again after the login
        Assert.Equal(3, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
    }

    [Fact]
    public async Task Faults_set_at_run_time_apply_to_new_sessions()
    {
        await using Pop3TestServer server = TestServer.Start();
        using Pop3Client before = await TestServer.Connect(false, server);
        server.Faults = [new GreetingWithoutTimestamp()];
        using Pop3Client after = await TestServer.Connect(false, server);
        Assert.NotNull(before.ApopTimestamp);
        Assert.Null(after.ApopTimestamp);
    }
}
