using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

public class AuthenticationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task User_pass_logs_in_and_reads_capabilities_again(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet()
            .Capa("USER", "TOP")
            .On("USER alice", "+OK send PASS")
            .On("PASS s3cret word", "+OK maildrop has 2 messages (320 octets)")
            .Capa("TOP", "PIPELINING"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        Pop3Response user = await Both.Run(async, () => client.User("alice"), () => client.UserAsync("alice"));
        Assert.Equal("send PASS", user.Text);
        Assert.Equal(Pop3SessionState.Authorization, client.State);
        Pop3Response pass = await Both.Run(async, () => client.Pass("s3cret word"), () => client.PassAsync("s3cret word"));

        Assert.Equal("+OK maildrop has 2 messages (320 octets)", pass.Line);
        Assert.Equal(Pop3SessionState.Transaction, client.State);
        Assert.True(client.Capabilities.Pipelining);
        Assert.False(client.Capabilities.User);
    }

    public static TheoryData<bool, string> LoginCommands() => Both.Paths("PASS", "APOP", "AUTH PLAIN", "AUTH LOGIN", "RPOP");

    [Theory]
    [MemberData(nameof(LoginCommands))]
    public async Task Nothing_is_pipelined_behind_a_command_that_ends_the_authorization_state(bool async, string method)
    {
        // Courier hands the connection from its login process to the mailbox process after a
        // successful login and loses whatever the client had already sent: a CAPA written together
        // with PASS is never answered, and the login would end in a timeout. Even with PIPELINING
        // on offer, the client waits for the login's reply first.
        string[] capabilities = ["USER", "PIPELINING", "SASL PLAIN LOGIN"];
        await using var server = ScriptedServer.Start(s =>
        {
            s.Greet("+OK ready <1896.697170952@dbc.mtview.ca.us>").Capa(capabilities);
            _ = method switch
            {
                "PASS" => s.On("USER alice", "+OK").Expect("PASS secret"),
                "APOP" => s.Expect("APOP alice 3f18b52881e44c0cc6067f46e0ced7bc"),
                "AUTH PLAIN" => s.Expect("AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
                "AUTH LOGIN" => s.Expect("AUTH LOGIN").Send("+ VXNlcm5hbWU6").Expect("YWxpY2U=").Send("+ UGFzc3dvcmQ6").Expect("c2VjcmV0"),
                _ => s.On("USER alice", "+OK").Expect("RPOP root"),
            };
            s.ExpectQuiet(TimeSpan.FromMilliseconds(300)).Send("+OK logged in").Capa("TOP", "PIPELINING").On("NOOP", "+OK");
        });
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());
        Func<Pop3Response> login = method switch
        {
            "PASS" => () => { client.User("alice"); return client.Pass("secret"); },
            "APOP" => () => client.Apop("alice", "secret"),
            "AUTH PLAIN" => () => client.Auth(new Poplib.Sasl.SaslPlain("alice", "secret")),
            "AUTH LOGIN" => () => client.Auth(new Poplib.Sasl.SaslLogin("alice", "secret")),
            _ => () => { client.User("alice"); return client.Rpop("root"); },
        };
        Func<Task<Pop3Response>> loginAsync = method switch
        {
            "PASS" => async () => { await client.UserAsync("alice"); return await client.PassAsync("secret"); },
            "APOP" => () => client.ApopAsync("alice", "secret"),
            "AUTH PLAIN" => () => client.AuthAsync(new Poplib.Sasl.SaslPlain("alice", "secret")),
            "AUTH LOGIN" => () => client.AuthAsync(new Poplib.Sasl.SaslLogin("alice", "secret")),
            _ => async () => { await client.UserAsync("alice"); return await client.RpopAsync("root"); },
        };

        Pop3Response reply = await Both.Run(async, login, loginAsync);
        Assert.Equal("logged in", reply.Text);
        Assert.Equal(Pop3SessionState.Transaction, client.State);
        Assert.True(client.Capabilities.Top);
        Assert.False(client.Capabilities.User);
        await Both.Run(async, client.Noop, () => client.NoopAsync());
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refused_pass_with_pipelining_on_offer_reports_its_own_error_and_the_session_goes_on(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet()
            .Capa("USER", "PIPELINING", "RESP-CODES")
            .On("USER alice", "+OK")
            .Expect("PASS wrong").ExpectQuiet().Send("-ERR [AUTH] wrong password")
            .On("USER alice", "+OK")
            .Expect("PASS right").ExpectQuiet().Send("+OK")
            .Capa("PIPELINING"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());
        await Both.Run(async, () => client.User("alice"), () => client.UserAsync("alice"));
        var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Pass("wrong"), () => client.PassAsync("wrong")));
        Assert.Equal(Pop3ResponseCode.Auth, refused.ResponseCode);
        Assert.Equal(Pop3SessionState.Authorization, client.State);
        Assert.True(client.Capabilities.User);
        await Both.Run(async, () => client.User("alice"), () => client.UserAsync("alice"));
        await Both.Run(async, () => client.Pass("right"), () => client.PassAsync("right"));
        Assert.Equal(Pop3SessionState.Transaction, client.State);
        Assert.False(client.Capabilities.User);
        await server.VerifyAsync();
    }

    [Fact]
    public async Task A_server_that_hangs_up_after_a_refused_pass_still_reports_the_refusal()
    {
        await using var server = ScriptedServer.Start(s => s.Greet()
            .Capa("USER", "PIPELINING")
            .On("USER alice", "+OK")
            .Expect("PASS wrong")
            .SendRaw("-ERR wrong password\r\n")
            .Close());
        using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, Both.Plain());
        await client.UserAsync("alice");
        var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => client.PassAsync("wrong"));
        Assert.Equal("wrong password", refused.ResponseText);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Pass_is_refused_on_a_plain_connection_unless_allowed(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("USER").On("USER alice", "+OK").On("QUIT", "+OK bye"));
        var options = Both.Plain();
        options.AllowInsecureAuthentication = false;
        using Pop3Client client = await Both.Connect(async, server.Port, options);
        await Both.Run(async, () => client.User("alice"), () => client.UserAsync("alice"));

        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Pass("secret"), () => client.PassAsync("secret")));
        Assert.Contains("AllowInsecureAuthentication", error.Message);
        Assert.True(client.IsConnected);
        await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
        await server.VerifyAsync();
        Assert.DoesNotContain(server.Received, line => line.StartsWith("PASS", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Wrong_password_carries_the_response_code_and_the_session_goes_on(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("USER", "RESP-CODES", "AUTH-RESP-CODE")
            .On("USER alice", "+OK")
            .On("PASS wrong", "-ERR [AUTH] Authentication failed.")
            .On("USER alice", "+OK")
            .On("PASS locked", "-ERR [IN-USE] Mailbox is locked by another session")
            .On("USER alice", "+OK")
            .On("PASS right", "+OK")
            .Capa("TOP"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        await Both.Run(async, () => client.User("alice"), () => client.UserAsync("alice"));
        var wrong = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Pass("wrong"), () => client.PassAsync("wrong")));
        Assert.Equal(Pop3ResponseCode.Auth, wrong.ResponseCode);
        Assert.Equal("PASS", wrong.Command);
        Assert.DoesNotContain("wrong", wrong.Message.Replace("[AUTH] Authentication failed.", "", StringComparison.Ordinal));

        await Both.Run(async, () => client.User("alice"), () => client.UserAsync("alice"));
        var locked = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Pass("locked"), () => client.PassAsync("locked")));
        Assert.Equal(Pop3ResponseCode.InUse, locked.ResponseCode);

        await Both.Run(async, () => client.User("alice"), () => client.UserAsync("alice"));
        await Both.Run(async, () => client.Pass("right"), () => client.PassAsync("right"));
        Assert.Equal(Pop3SessionState.Transaction, client.State);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Apop_sends_the_rfc1939_digest(bool async)
    {
        // The example of RFC 1939 section 7.
        await using var server = ScriptedServer.Start(s => s
            .Greet("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>")
            .On("CAPA", "-ERR")
            .On("APOP mrose c4c9334bac560ecc979e58001b3e22fb", "+OK maildrop has 1 message (369 octets)"));
        // A plain link: opted in (APOP's digest can be cracked offline; InsecureLoginTests covers the refusal).
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        await Both.Run(async, () => client.Apop("mrose", "tanstaaf"), () => client.ApopAsync("mrose", "tanstaaf"));
        Assert.Equal(Pop3SessionState.Transaction, client.State);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Apop_without_a_greeting_timestamp_is_refused_before_sending(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet("+OK no timestamp here").On("CAPA", "-ERR").On("NOOP", "+OK"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => Both.Run(async, () => client.Apop("mrose", "tanstaaf"), () => client.ApopAsync("mrose", "tanstaaf")));
        Assert.Contains("timestamp", error.Message);
        Assert.Equal(["CAPA"], server.Received);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Rpop_sends_the_client_user(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().On("CAPA", "-ERR")
            .On("USER mrose", "+OK")
            .On("RPOP root", "+OK welcome"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());
        await Both.Run(async, () => client.User("mrose"), () => client.UserAsync("mrose"));
        Pop3Response reply = await Both.Run(async, () => client.Rpop("root"), () => client.RpopAsync("root"));
        Assert.Equal("welcome", reply.Text);
        Assert.Equal(Pop3SessionState.Transaction, client.State);
    }

    [Theory]
    [InlineData(false, "bob\r\nDELE 1")]
    [InlineData(true, "bob\nQUIT")]
    [InlineData(false, "bob\0")]
    [InlineData(true, "bob\r")]
    public async Task Arguments_with_CR_LF_or_NUL_are_refused_and_nothing_is_sent(bool async, string userName)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().On("CAPA", "-ERR").On("USER alice", "+OK"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        await Assert.ThrowsAsync<ArgumentException>(() => Both.Run(async, () => client.User(userName), () => client.UserAsync(userName)));
        await Assert.ThrowsAsync<ArgumentException>(() => Both.Run(async, () => client.Pass(userName), () => client.PassAsync(userName)));
        await Assert.ThrowsAsync<ArgumentException>(() => Both.Run(async, () => client.Apop(userName, "x"), () => client.ApopAsync(userName, "x")));

        // Nothing was sent and the session is intact.
        await Both.Run(async, () => client.User("alice"), () => client.UserAsync("alice"));
        await server.VerifyAsync();
        Assert.Equal(["CAPA", "USER alice"], server.Received);
    }

    [Fact]
    public async Task Mail_commands_need_a_login_and_login_commands_need_its_absence()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn());
        using Pop3Client client = Pop3Client.Connect("127.0.0.1", server.Port, Both.Plain());
        Assert.Throws<InvalidOperationException>(() => client.Stat());
        Assert.Throws<InvalidOperationException>(() => client.Retr(1));
        client.User("alice");
        client.Pass("secret");
        Assert.Throws<InvalidOperationException>(() => client.User("alice"));
        Assert.Throws<InvalidOperationException>(() => client.Utf8());
        await server.VerifyAsync();
    }
}
