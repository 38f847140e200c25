using System.Text;
using Poplib.Sasl;
using Poplib.Testing.Tests.Infrastructure;

namespace Poplib.Testing.Tests.Protocol;

/// <summary>AUTH XOAUTH2 and OAUTHBEARER on the wire: both forms of the exchange, the JSON error continuation, the limits, the profiles.</summary>
public class OAuthAuthenticationTests
{
    private const string Token = "ya29.good-token";

    private static Pop3TestServerOptions OAuthOptions(Pop3SaslMechanisms mechanisms = Pop3SaslMechanisms.XOAuth2 | Pop3SaslMechanisms.OAuthBearer) => new()
    {
        SaslMechanisms = mechanisms,
        AccessTokenValidator = (user, token) => user == TestServer.User && token == Token,
    };

    private static string XOAuth2(string user, string token) => Base64($"user={user}\u0001auth=Bearer {token}\u0001\u0001");

    private static string OAuthBearer(string user, string token) => Base64($"n,a={user},\u0001host=localhost\u0001port=110\u0001auth=Bearer {token}\u0001\u0001");

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static async Task<RawConnection> Greeted(Pop3TestServer server)
    {
        RawConnection raw = await RawConnection.OpenAsync(server);
        Assert.StartsWith("+OK", await raw.ReadLineAsync());
        return raw;
    }

    [Fact]
    public async Task Capa_lists_the_oauth_mechanisms_only_when_offered()
    {
        await using Pop3TestServer server = TestServer.Start(OAuthOptions());
        using RawConnection raw = await Greeted(server);
        await raw.SendAsync("CAPA\r\n");
        Assert.Contains("SASL XOAUTH2 OAUTHBEARER", await raw.ReadMultiLineAsync());

        await using Pop3TestServer plain = TestServer.Start();
        using RawConnection other = await Greeted(plain);
        await other.SendAsync("AUTH XOAUTH2 " + XOAuth2(TestServer.User, Token) + "\r\n");
        Assert.Equal("-ERR Unsupported authentication mechanism.", await other.ReadLineAsync());
    }

    [Theory]
    [InlineData("XOAUTH2")]
    [InlineData("OAUTHBEARER")]
    public async Task Initial_response_and_two_step_both_log_in(string mechanism)
    {
        string message = mechanism == "XOAUTH2" ? XOAuth2(TestServer.User, Token) : OAuthBearer(TestServer.User, Token);
        await using Pop3TestServer server = TestServer.Start(OAuthOptions());
        using (RawConnection raw = await Greeted(server))
        {
            await raw.SendAsync($"AUTH {mechanism} {message}\r\n");
            Assert.StartsWith("+OK Logged in", await raw.ReadLineAsync());
            await raw.SendAsync("QUIT\r\n");
            Assert.StartsWith("+OK", await raw.ReadLineAsync());
        }

        using RawConnection twoStep = await Greeted(server);
        await twoStep.SendAsync($"AUTH {mechanism}\r\n");
        Assert.Equal("+ ", await twoStep.ReadLineAsync());
        await twoStep.SendAsync(message + "\r\n");
        Assert.StartsWith("+OK Logged in", await twoStep.ReadLineAsync());
    }

    [Fact]
    public async Task A_refused_xoauth2_token_gets_googles_json_challenge_then_err_after_the_empty_acknowledgement()
    {
        await using Pop3TestServer server = TestServer.Start(OAuthOptions());
        using RawConnection raw = await Greeted(server);
        await raw.SendAsync("AUTH XOAUTH2 " + XOAuth2(TestServer.User, "expired") + "\r\n");
        string challenge = (await raw.ReadLineAsync())!;
        Assert.StartsWith("+ ", challenge);
        Assert.Equal("""{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}""", Encoding.UTF8.GetString(Convert.FromBase64String(challenge[2..])));
        await raw.SendAsync("\r\n");
        Assert.Equal("-ERR [AUTH] Authentication failed.", await raw.ReadLineAsync());

        // The session goes on: the right token logs in.
        await raw.SendAsync("AUTH XOAUTH2 " + XOAuth2(TestServer.User, Token) + "\r\n");
        Assert.StartsWith("+OK Logged in", await raw.ReadLineAsync());
    }

    [Fact]
    public async Task A_refused_oauthbearer_token_gets_the_rfc7628_json_and_wants_0x01()
    {
        await using Pop3TestServer server = TestServer.Start(OAuthOptions());
        using RawConnection raw = await Greeted(server);
        await raw.SendAsync("AUTH OAUTHBEARER " + OAuthBearer(TestServer.User, "expired") + "\r\n");
        string challenge = (await raw.ReadLineAsync())!;
        Assert.Equal("""{"status":"invalid_token","scope":"https://mail.google.com/"}""", Encoding.UTF8.GetString(Convert.FromBase64String(challenge[2..])));
        await raw.SendAsync("AQ==\r\n");
        Assert.Equal("-ERR [AUTH] Authentication failed.", await raw.ReadLineAsync());

        // Anything but %x01 is no acknowledgement: still a failure, and the session still goes on.
        await raw.SendAsync("AUTH OAUTHBEARER " + OAuthBearer(TestServer.User, "expired") + "\r\n");
        Assert.StartsWith("+ ", await raw.ReadLineAsync());
        await raw.SendAsync(Base64("hello") + "\r\n");
        Assert.StartsWith("-ERR [AUTH] Invalid SASL OAUTHBEARER error acknowledgement", await raw.ReadLineAsync());
        await raw.SendAsync("NOOP\r\n");
        Assert.StartsWith("-ERR", await raw.ReadLineAsync()); // NOOP is a TRANSACTION command: still in AUTHORIZATION
        await raw.SendAsync("CAPA\r\n");
        Assert.Contains("USER", await raw.ReadMultiLineAsync());
    }

    [Theory]
    [InlineData("an unknown user", "bob", Token)]
    [InlineData("no validator", TestServer.User, Token)]
    public async Task Unknown_users_and_servers_without_a_validator_refuse(string why, string user, string token)
    {
        Pop3TestServerOptions options = OAuthOptions();
        if (why == "no validator")
            options.AccessTokenValidator = null;
        await using Pop3TestServer server = TestServer.Start(options);
        using RawConnection raw = await Greeted(server);
        await raw.SendAsync("AUTH XOAUTH2 " + XOAuth2(user, token) + "\r\n");
        Assert.StartsWith("+ ", await raw.ReadLineAsync());
        await raw.SendAsync("\r\n");
        Assert.Equal("-ERR [AUTH] Authentication failed.", await raw.ReadLineAsync());
    }

    [Theory]
    [InlineData("XOAUTH2", "not base64!")]
    [InlineData("XOAUTH2", "dXNlcj1hbGljZQ==")] // "user=alice": no auth, no ^A^A
    [InlineData("OAUTHBEARER", "bixhPWFsaWNlLAFhdXRoPUJlYXJlciB4AQE=")] // "n,a=alice,^Aauth=Bearer x^A^A" is fine ...
    [InlineData("OAUTHBEARER", "cD10bHMtdW5pcXVlLGE9YWxpY2UsAWF1dGg9QmVhcmVyIHgBAQ==")] // "p=tls-unique,...": channel binding is not part of OAUTHBEARER
    [InlineData("OAUTHBEARER", "bixhPWEsLGFsaWNlLAFhdXRoPUJlYXJlciB4AQE=")] // a malformed GS2 header
    public async Task Malformed_messages_are_err_and_the_session_goes_on(string mechanism, string message)
    {
        await using Pop3TestServer server = TestServer.Start(OAuthOptions());
        using RawConnection raw = await Greeted(server);
        await raw.SendAsync($"AUTH {mechanism} {message}\r\n");
        string? reply = await raw.ReadLineAsync();
        if (reply!.StartsWith("+ ", StringComparison.Ordinal))
        {
            // ... well formed, only the token "x" is wrong: the error challenge.
            await raw.SendAsync("AQ==\r\n");
            reply = await raw.ReadLineAsync();
            Assert.Equal("-ERR [AUTH] Authentication failed.", reply);
        }
        else
        {
            Assert.Equal($"-ERR [AUTH] Invalid SASL {mechanism} response.", reply);
        }

        await raw.SendAsync("AUTH XOAUTH2\r\n");
        Assert.Equal("+ ", await raw.ReadLineAsync());
        await raw.SendAsync("*\r\n");
        Assert.Equal("-ERR Authentication cancelled.", await raw.ReadLineAsync());
        await raw.SendAsync("AUTH XOAUTH2 " + XOAuth2(TestServer.User, Token) + "\r\n");
        Assert.StartsWith("+OK Logged in", await raw.ReadLineAsync());
    }

    [Fact]
    public async Task A_jwt_sized_token_fits_and_a_line_past_the_limit_is_a_clear_err()
    {
        string jwt = new('j', 4096);
        Pop3TestServerOptions options = OAuthOptions();
        options.AccessTokenValidator = (user, token) => token == jwt;
        await using Pop3TestServer server = TestServer.Start(options);
        using (RawConnection raw = await Greeted(server))
        {
            await raw.SendAsync("AUTH XOAUTH2\r\n");
            Assert.Equal("+ ", await raw.ReadLineAsync());
            await raw.SendAsync(XOAuth2(TestServer.User, jwt) + "\r\n");
            Assert.StartsWith("+OK Logged in", await raw.ReadLineAsync());
        }

        using RawConnection tooLong = await Greeted(server);
        await tooLong.SendAsync("AUTH XOAUTH2\r\n");
        Assert.Equal("+ ", await tooLong.ReadLineAsync());
        await tooLong.SendAsync(XOAuth2(TestServer.User, new string('j', 8000)) + "\r\n");
        Assert.Equal("-ERR Command line too long (the limit is 8192 octets).", await tooLong.ReadLineAsync());
        Assert.Null(await tooLong.ReadLineAsync());
    }

    [Fact]
    public async Task Oauth_is_not_offered_in_the_clear_when_plaintext_is_disallowed()
    {
        Pop3TestServerOptions options = OAuthOptions();
        options.AllowPlaintextWithoutTls = false;
        await using Pop3TestServer server = TestServer.Start(options);
        using RawConnection raw = await Greeted(server);
        await raw.SendAsync("AUTH XOAUTH2 " + XOAuth2(TestServer.User, Token) + "\r\n");
        Assert.Equal("-ERR Unsupported authentication mechanism.", await raw.ReadLineAsync());
        await raw.SendAsync("STLS\r\n");
        Assert.StartsWith("+OK", await raw.ReadLineAsync());
        await raw.StartTlsAsync(server);
        await raw.SendAsync("AUTH XOAUTH2 " + XOAuth2(TestServer.User, Token) + "\r\n");
        Assert.StartsWith("+OK Logged in", await raw.ReadLineAsync());
    }

    [Fact]
    public async Task Microsoft365_closes_the_connection_on_an_initial_response_and_takes_the_two_step_form()
    {
        Pop3TestServerOptions options = Pop3ServerProfiles.Microsoft365();
        options.Tls = Pop3TlsMode.None; // to read the wire; the profile's own TLS is tested through the client
        options.AccessTokenValidator = (user, token) => token == Token;
        await using Pop3TestServer server = TestServer.Start(options);
        using (RawConnection raw = await RawConnection.OpenAsync(server))
        {
            Assert.Equal("+OK The Microsoft Exchange POP3 service is ready. [UABPAFAATABJAEIA]", await raw.ReadLineAsync());
            await raw.SendAsync("CAPA\r\n");
            Assert.Equal(["TOP", "UIDL", "SASL PLAIN XOAUTH2", "USER"], (await raw.ReadMultiLineAsync())[1..^1]);
            await raw.SendAsync("AUTH XOAUTH2 " + XOAuth2(TestServer.User, Token) + "\r\n");
            Assert.Equal("-ERR Protocol error. Connection is closed. 10", await raw.ReadLineAsync());
            Assert.Null(await raw.ReadLineAsync());
        }

        using RawConnection twoStep = await Greeted(server);
        await twoStep.SendAsync("AUTH XOAUTH2\r\n");
        Assert.Equal("+ ", await twoStep.ReadLineAsync());
        await twoStep.SendAsync(XOAuth2(TestServer.User, "expired") + "\r\n");
        Assert.Equal("-ERR [AUTH] Authentication failed.", await twoStep.ReadLineAsync()); // no JSON challenge: Microsoft documents none
        await twoStep.SendAsync("AUTH XOAUTH2\r\n");
        Assert.Equal("+ ", await twoStep.ReadLineAsync());
        await twoStep.SendAsync(XOAuth2(TestServer.User, Token) + "\r\n");
        Assert.StartsWith("+OK", await twoStep.ReadLineAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Gmail_profile_logs_the_client_in_over_tls_with_either_mechanism(bool async)
    {
        Pop3TestServerOptions options = Pop3ServerProfiles.Gmail();
        options.AccessTokenValidator = (user, token) => token == Token;
        await using Pop3TestServer server = TestServer.Start(options);
        using (Pop3Client client = await TestServer.ConnectSsl(async, server, TestServer.ClientOptions(server, allowInsecure: false)))
        {
            Assert.Equal(["PLAIN", "XOAUTH2", "OAUTHBEARER"], client.Capabilities.SaslMechanisms);
            await Both.Run(async, () => client.Login(TestServer.User, new OAuth2AccessToken(Token)), () => client.LoginAsync(TestServer.User, new OAuth2AccessToken(Token)));
            Assert.Equal(3, client.Stat().Count);
        }

        using Pop3Client xoauth2 = await TestServer.ConnectSsl(async, server, TestServer.ClientOptions(server, allowInsecure: false));
        await Both.Run(async, () => xoauth2.Auth(new SaslXOAuth2(TestServer.User, Token)), () => xoauth2.AuthAsync(new SaslXOAuth2(TestServer.User, Token)));
        Assert.True(xoauth2.IsAuthenticated);
    }

    [Fact]
    public void Unknown_initial_response_handling_is_refused_at_start()
    {
        var options = new Pop3TestServerOptions { OAuthInitialResponse = (Pop3InitialResponse)7 };
        Assert.Throws<ArgumentOutOfRangeException>(() => Pop3TestServer.Start(options));
    }
}
