using System.Text;
using Poplib.Sasl;
using Poplib.Testing.Tests.Infrastructure;

namespace Poplib.Testing.Tests.Protocol;

public class AuthenticationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Apop_logs_in_with_the_greeting_timestamp(bool async)
    {
        await using Pop3TestServer server = TestServer.Start();
        using Pop3Client client = await TestServer.Connect(async, server);
        Assert.Matches(@"^<\d+\.\d+\.\d+@localhost>$", client.ApopTimestamp);
        await Both.Run(async, () => client.Apop(TestServer.User, TestServer.Password), () => client.ApopAsync(TestServer.User, TestServer.Password));
        Assert.Equal(3, client.Stat().Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Apop_with_the_wrong_secret_is_refused_with_AUTH(bool async)
    {
        await using Pop3TestServer server = TestServer.Start();
        using Pop3Client client = await TestServer.Connect(async, server);
        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Apop(TestServer.User, "wrong"), () => client.ApopAsync(TestServer.User, "wrong")));
        Assert.Equal(Pop3ResponseCode.Auth, error.ResponseCode);
        Assert.False(client.IsAuthenticated);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Each_connection_gets_its_own_timestamp(bool async)
    {
        await using Pop3TestServer server = TestServer.Start();
        using Pop3Client first = await TestServer.Connect(async, server);
        using Pop3Client second = await TestServer.Connect(async, server);
        Assert.NotEqual(first.ApopTimestamp, second.ApopTimestamp);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Auth_plain_with_an_initial_response(bool async)
    {
        await using Pop3TestServer server = TestServer.Start();
        using Pop3Client client = await TestServer.Connect(async, server);
        await Both.Run(async, () => client.Auth(new SaslPlain(TestServer.User, TestServer.Password)), () => client.AuthAsync(new SaslPlain(TestServer.User, TestServer.Password)));
        Assert.True(client.IsAuthenticated);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Login_picks_sasl_plain_over_tls(bool async)
    {
        await using Pop3TestServer server = TestServer.Start(new Pop3TestServerOptions { Tls = Pop3TlsMode.Implicit });
        using Pop3Client client = await TestServer.ConnectSsl(async, server, TestServer.ClientOptions(server, allowInsecure: false));
        await Both.Run(async, () => client.Login(TestServer.User, TestServer.Password), () => client.LoginAsync(TestServer.User, TestServer.Password));
        Assert.True(client.IsAuthenticated);
    }

    [Fact]
    public async Task Auth_plain_by_continuation_and_cancel()
    {
        await using Pop3TestServer server = TestServer.Start();
        using RawConnection raw = await RawConnection.OpenAsync(server);
        await raw.ReadLineAsync();
        await raw.SendAsync("AUTH PLAIN\r\n");
        Assert.Equal("+ ", await raw.ReadLineAsync());
        await raw.SendAsync("*\r\n");
        Assert.Equal("-ERR Authentication cancelled.", await raw.ReadLineAsync());
        await raw.SendAsync("AUTH PLAIN\r\n");
        Assert.Equal("+ ", await raw.ReadLineAsync());
        await raw.SendAsync(Convert.ToBase64String("\0alice\0wrong"u8) + "\r\n");
        Assert.Equal("-ERR [AUTH] Authentication failed.", await raw.ReadLineAsync());
        await raw.SendAsync("AUTH PLAIN\r\n");
        Assert.Equal("+ ", await raw.ReadLineAsync());
        await raw.SendAsync(Convert.ToBase64String("alice\0alice\0secret"u8) + "\r\n");
        Assert.StartsWith("+OK Logged in: 3 messages", await raw.ReadLineAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Wrong_password_is_an_AUTH_error_and_the_session_goes_on(bool async)
    {
        await using Pop3TestServer server = TestServer.Start();
        using Pop3Client client = await TestServer.Connect(async, server);
        await Both.Run(async, () => client.User(TestServer.User), () => client.UserAsync(TestServer.User));
        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Pass("nope"), () => client.PassAsync("nope")));
        Assert.Equal(Pop3ResponseCode.Auth, error.ResponseCode);
        await Both.Run(async, () => client.Login(TestServer.User, TestServer.Password), () => client.LoginAsync(TestServer.User, TestServer.Password));
        Assert.True(client.IsAuthenticated);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Plaintext_logins_are_refused_before_tls_when_disallowed(bool async)
    {
        await using Pop3TestServer server = TestServer.Start(new Pop3TestServerOptions { AllowPlaintextWithoutTls = false });
        using Pop3Client client = await TestServer.Connect(async, server);
        Assert.False(client.Capabilities.User);
        Assert.Empty(client.Capabilities.SaslMechanisms);

        var user = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.User(TestServer.User), () => client.UserAsync(TestServer.User)));
        Assert.Equal(Pop3ResponseCode.Auth, user.ResponseCode);
        Assert.Contains("Plaintext authentication disallowed", user.ResponseText, StringComparison.Ordinal);
        var auth = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Auth(new SaslPlain(TestServer.User, TestServer.Password)), () => client.AuthAsync(new SaslPlain(TestServer.User, TestServer.Password))));
        Assert.Equal(Pop3ResponseCode.Auth, auth.ResponseCode);

        // After STLS the same logins work.
        await Both.Run(async, () => client.Stls(), () => client.StlsAsync());
        Assert.True(client.Capabilities.User);
        await Both.Run(async, () => client.Login(TestServer.User, TestServer.Password), () => client.LoginAsync(TestServer.User, TestServer.Password));
        Assert.True(client.IsAuthenticated);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Utf8_user_names_need_the_UTF8_command(bool async)
    {
        await using Pop3TestServer server = TestServer.Start();
        server.AddUser("jörg", "pässwörd", Pop3Mailbox.FromMessages([Encoding.UTF8.GetBytes("Subject: Grüße\n\nÄpfel\n")]));
        using Pop3Client client = await TestServer.Connect(async, server);
        Assert.True(client.Capabilities.Utf8);

        var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.User("jörg"), () => client.UserAsync("jörg")));
        Assert.Contains("UTF8", refused.ResponseText, StringComparison.Ordinal);

        await Both.Run(async, () => client.Utf8(), () => client.Utf8Async());
        Assert.True(client.IsUtf8);
        await Both.Run(async, () => client.User("jörg"), () => client.UserAsync("jörg"));
        await Both.Run(async, () => client.Pass("pässwörd"), () => client.PassAsync("pässwörd"));
        Pop3Message message = await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1));
        Assert.Equal(Encoding.UTF8.GetBytes("Subject: Grüße\r\n\r\nÄpfel\r\n"), message.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_locked_mailbox_answers_IN_USE_until_the_first_session_ends(bool async)
    {
        await using Pop3TestServer server = TestServer.Start();
        using Pop3Client first = await TestServer.LogIn(async, server);
        using Pop3Client second = await TestServer.Connect(async, server);
        await Both.Run(async, () => second.User(TestServer.User), () => second.UserAsync(TestServer.User));
        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => second.Pass(TestServer.Password), () => second.PassAsync(TestServer.Password)));
        Assert.Equal(Pop3ResponseCode.InUse, error.ResponseCode);

        await Both.Run(async, () => first.Quit(), () => first.QuitAsync());
        await Both.Run(async, () => second.Apop(TestServer.User, TestServer.Password), () => second.ApopAsync(TestServer.User, TestServer.Password));
        Assert.True(second.IsAuthenticated);
    }
}
