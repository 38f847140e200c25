using Poplib.Testing;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

/// <summary>
/// USER and PASS as one login (<see cref="Pop3Client.LoginUserPass"/>, and <see cref="Pop3Client.Login(string, string)"/>
/// when it chooses USER/PASS): one write and one round trip where the server pipelines, lockstep
/// elsewhere, and every reply accounted for when one of the two is refused.
/// </summary>
public class UserPassLoginTests
{
    private static readonly string[] Pipelines = ["USER", "PIPELINING", "UIDL"];

    private static Task<Pop3Response> LogIn(bool async, Pop3Client client, bool chooseMethod) => chooseMethod
        ? Both.Run(async, () => client.Login("alice", "secret"), () => client.LoginAsync("alice", "secret"))
        : Both.Run(async, () => client.LoginUserPass("alice", "secret"), () => client.LoginUserPassAsync("alice", "secret"));

    public static TheoryData<bool, bool> PathsAndEntryPoints() => Both.Paths(false, true);

    [Theory]
    [MemberData(nameof(PathsAndEntryPoints))]
    public async Task PASS_goes_out_with_USER_when_the_server_pipelines(bool async, bool chooseMethod)
    {
        // The script answers only after both lines have arrived: a client waiting for USER's reply hangs here.
        await using var server = ScriptedServer.Start(s => s.Greet().Capa(Pipelines)
            .Expect("USER alice").Expect("PASS secret").Send("+OK", "+OK logged in")
            .Capa(Pipelines).On("STAT", "+OK 2 20"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        Pop3Response response = await LogIn(async, client, chooseMethod);

        Assert.Equal("logged in", response.Text);
        Assert.Equal(Pop3SessionState.Transaction, client.State);
        Assert.Equal("USER/PASS", client.AuthenticationMethod);
        Assert.Equal(2, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Without_PIPELINING_PASS_waits_for_USERs_reply(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("USER")
            .Expect("USER alice").ExpectQuiet().Send("+OK")
            .On("PASS secret", "+OK logged in").Capa("USER"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        await LogIn(async, client, chooseMethod: false);

        Assert.Equal(Pop3SessionState.Transaction, client.State);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task On_a_plain_link_a_server_that_does_not_list_USER_gets_no_PASS_before_it_accepts_USER(bool async)
    {
        // Such a server may refuse USER to push clients to TLS; the password must not be on the wire by then.
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("PIPELINING", "SASL PLAIN")
            .Expect("USER alice").ExpectQuiet().Send("-ERR [AUTH] Plaintext authentication disallowed on non-secure connections")
            .On("QUIT", "+OK bye"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => LogIn(async, client, chooseMethod: false));

        Assert.Equal("USER", error.Command);
        await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
        await server.VerifyAsync();
        Assert.DoesNotContain(server.Received, line => line.StartsWith("PASS", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(PathsAndEntryPoints))]
    public async Task A_refused_user_name_is_reported_as_USER_and_both_replies_are_read(bool async, bool chooseMethod)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa(Pipelines)
            .Expect("USER alice").Expect("PASS secret").Send("-ERR [AUTH] no such user", "-ERR no USER given")
            .On("QUIT", "+OK bye"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => LogIn(async, client, chooseMethod));

        Assert.Equal("USER", error.Command);
        Assert.Equal("[AUTH] no such user", error.ResponseText);
        Assert.Equal(Pop3SessionState.Authorization, client.State);
        // In step: QUIT's reply is QUIT's, not the PASS reply left unread.
        Assert.Equal("bye", (await Both.Run(async, () => client.Quit(), () => client.QuitAsync())).Text);
        await server.VerifyAsync();
    }

    [Theory]
    [MemberData(nameof(PathsAndEntryPoints))]
    public async Task A_refused_password_is_reported_as_PASS_and_the_session_can_try_again(bool async, bool chooseMethod)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa(Pipelines)
            .Expect("USER alice").Expect("PASS secret").Send("+OK", "-ERR [AUTH] invalid password")
            .Expect("USER alice").Expect("PASS secret").Send("+OK", "+OK logged in").Capa(Pipelines));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => LogIn(async, client, chooseMethod));
        Assert.Equal("PASS", error.Command);
        Assert.Equal(Pop3SessionState.Authorization, client.State);

        await LogIn(async, client, chooseMethod);
        Assert.Equal(Pop3SessionState.Transaction, client.State);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_server_that_refuses_USER_but_accepts_PASS_is_not_trusted(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa(Pipelines)
            .Expect("USER alice").Expect("PASS secret").Send("-ERR who?", "+OK welcome anyway"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => LogIn(async, client, chooseMethod: false));

        Assert.Contains("refused USER but accepted the PASS", error.Message);
        Assert.Equal(Pop3SessionState.Closed, client.State);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Nothing_is_sent_on_a_plain_link_unless_the_caller_opted_in(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa(Pipelines).On("QUIT", "+OK bye"));
        using Pop3Client client = await Both.Connect(async, server.Port, new Pop3ClientOptions { Timeout = TimeSpan.FromSeconds(10) });

        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => LogIn(async, client, chooseMethod: false));

        Assert.Equal(Pop3AuthenticationFailure.InsecureConnection, error.Reason);
        await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
        await server.VerifyAsync();
        Assert.Equal(["CAPA", "QUIT"], server.Received);
    }

    [Fact]
    public async Task The_debug_output_masks_the_pipelined_password()
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa(Pipelines)
            .Expect("USER alice").Expect("PASS secret").Send("+OK", "+OK logged in").Capa(Pipelines));
        var writer = new StringWriter();
        Pop3ClientOptions options = Both.Plain();
        options.DebugLevel = 2;
        options.DebugWriter = writer;
        using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, options);

        await client.LoginUserPassAsync("alice", "secret");

        await server.VerifyAsync();
        Assert.Contains("C: USER alice", writer.ToString());
        Assert.Contains("C: PASS ****", writer.ToString());
        Assert.DoesNotContain("secret", writer.ToString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Courier_which_drops_what_follows_a_login_still_answers_a_pipelined_USER_and_PASS(bool async)
    {
        // Courier's login process reads USER and PASS itself; only what follows a successful PASS is lost.
        await using Pop3TestServer server = Pop3TestServer.Start(Pop3ServerProfiles.Courier());
        server.AddUser("alice", "secret", Pop3Mailbox.FromMessages(["Subject: one\r\n\r\nHello.\r\n"u8.ToArray()]));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());
        Assert.True(client.Capabilities.Pipelining);

        await LogIn(async, client, chooseMethod: false);

        Assert.Equal(1, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
        await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
        Assert.Empty(server.Errors);
    }
}
