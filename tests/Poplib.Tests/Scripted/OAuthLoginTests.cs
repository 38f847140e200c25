using Poplib.Sasl;
using Poplib.Testing;
using Poplib.Testing.OAuth;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

/// <summary>
/// Issue 18, item 4: the client's XOAUTH2 and OAUTHBEARER against Poplib.Testing's Microsoft 365 and
/// Gmail profiles, with tokens minted and checked by the in-process OAuth2TestServer: initial response
/// or two-step by the token's length and the server, and the JSON error continuation of both mechanisms.
/// </summary>
public sealed class OAuthLoginTests : IAsyncDisposable
{
    private const string User = "alice@example.org";
    private const string ClientId = "poplib";
    private readonly OAuth2TestServer _oauth = OAuth2TestServer.Start();
    private readonly StringWriter _transcript = new();

    public OAuthLoginTests()
    {
        _oauth.RegisterClient(ClientId);
        _oauth.AddUser(User);
    }

    private string Token(int length)
    {
        _oauth.AccessTokenLength = length;
        return _oauth.IssueAccessToken(ClientId, User, "https://outlook.office.com/POP.AccessAsUser.All offline_access");
    }

    private Pop3TestServer Start(Pop3TestServerOptions options)
    {
        options.AccessTokenValidator = _oauth.ValidateAccessToken;
        options.Certificate = TestCertificates.Localhost;
        var server = Pop3TestServer.Start(options);
        server.AddUser(User, "unused-password", Pop3Mailbox.FromMessages(["Subject: one\r\n\r\nHello.\r\n"u8.ToArray()]));
        return server;
    }

    private Task<Pop3Client> Connect(bool async, Pop3TestServer server)
    {
        Pop3ClientOptions options = TestCertificates.TrustingOptions(TestCertificates.Localhost);
        options.Timeout = TimeSpan.FromSeconds(10);
        options.DebugLevel = 2;
        options.DebugWriter = _transcript;
        return Both.Run(async, () => Pop3Client.ConnectSsl("localhost", server.Port, options), () => Pop3Client.ConnectSslAsync("localhost", server.Port, options));
    }

    private static Task<Pop3Response> Login(bool async, Pop3Client client, string token) =>
        Both.Run(async, () => client.Login(User, new OAuth2AccessToken(token)), () => client.LoginAsync(User, new OAuth2AccessToken(token)));

    private static Task<Pop3Response> Auth(bool async, Pop3Client client, ISaslMechanism mechanism) =>
        Both.Run(async, () => client.Auth(mechanism), () => client.AuthAsync(mechanism));

    [Theory]
    [InlineData(false, 40)]
    [InlineData(true, 40)]
    [InlineData(false, 2500)]
    [InlineData(true, 2500)]
    public async Task Microsoft365_takes_short_and_jwt_sized_tokens_by_the_two_step_form(bool async, int length)
    {
        string token = Token(length);
        await using Pop3TestServer server = Start(Pop3ServerProfiles.Microsoft365());
        using (Pop3Client client = await Connect(async, server))
        {
            await Login(async, client, token);
            Assert.Equal(1, client.Stat().Count);
        }

        using (Pop3Client client = await Connect(async, server))
        {
            await Auth(async, client, new SaslXOAuth2(User, token));
            Assert.True(client.IsAuthenticated);
        }

        // The server closes the connection on an initial response: only "AUTH XOAUTH2" alone, then the token masked.
        string transcript = _transcript.ToString();
        Assert.Contains("C: AUTH XOAUTH2\n", transcript.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("C: AUTH XOAUTH2 ", transcript);
        Assert.DoesNotContain(token, transcript);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Elsewhere_a_short_token_goes_as_an_initial_response_and_a_long_one_waits_for_the_challenge(bool async)
    {
        Pop3TestServerOptions options = Pop3ServerProfiles.Gmail();
        await using Pop3TestServer server = Start(options);
        using (Pop3Client client = await Connect(async, server))
            await Auth(async, client, new SaslXOAuth2(User, Token(40)));
        Assert.Contains("C: AUTH XOAUTH2 ****", _transcript.ToString());

        _transcript.GetStringBuilder().Clear();
        string jwt = Token(2500);
        using (Pop3Client client = await Connect(async, server))
        {
            await Auth(async, client, new SaslXOAuth2(User, jwt));
            Assert.True(client.IsAuthenticated);
        }

        Assert.Contains("C: AUTH XOAUTH2\n", _transcript.ToString().ReplaceLineEndings("\n"));
        Assert.DoesNotContain(jwt, _transcript.ToString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Gmail_login_prefers_oauthbearer_and_takes_a_jwt_sized_token(bool async)
    {
        await using Pop3TestServer server = Start(Pop3ServerProfiles.Gmail());
        using Pop3Client client = await Connect(async, server);
        await Login(async, client, Token(2500));
        Assert.Equal(1, client.Stat().Count);
        Assert.Contains("C: AUTH OAUTHBEARER", _transcript.ToString());
    }

    [Theory]
    [InlineData(false, "XOAUTH2", """{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}""")]
    [InlineData(true, "XOAUTH2", """{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}""")]
    [InlineData(false, "OAUTHBEARER", """{"status":"invalid_token","scope":"https://mail.google.com/"}""")]
    [InlineData(true, "OAUTHBEARER", """{"status":"invalid_token","scope":"https://mail.google.com/"}""")]
    public async Task A_refused_token_brings_the_json_error_and_the_session_goes_on(bool async, string mechanism, string json)
    {
        string expired = Token(40);
        _oauth.RevokeAccessTokens(User);
        await using Pop3TestServer server = Start(Pop3ServerProfiles.Gmail());
        using Pop3Client client = await Connect(async, server);
        ISaslMechanism Mechanism(string token) => mechanism == "XOAUTH2" ? new SaslXOAuth2(User, token) : new SaslOAuthBearer(User, token, "localhost", server.Port);

        var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => Auth(async, client, Mechanism(expired)));
        Assert.Equal(json, refused.Details);
        Assert.Equal(Pop3ResponseCode.Auth, refused.ResponseCode);
        Assert.DoesNotContain(expired, refused.Message);
        Assert.True(client.IsConnected);

        await Auth(async, client, Mechanism(Token(40)));
        Assert.Equal(1, client.Stat().Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_expired_token_on_microsoft365_is_a_plain_err_and_a_fresh_one_then_logs_in(bool async)
    {
        string token = Token(2500);
        _oauth.RevokeAccessTokens(User);
        await using Pop3TestServer server = Start(Pop3ServerProfiles.Microsoft365());
        using Pop3Client client = await Connect(async, server);
        var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => Login(async, client, token));
        Assert.Null(refused.Details); // Microsoft documents no JSON challenge for POP
        Assert.True(client.IsConnected);
        await Login(async, client, Token(2500));
        Assert.True(client.IsAuthenticated);
    }

    public async ValueTask DisposeAsync()
    {
        await _oauth.DisposeAsync();
        _transcript.Dispose();
    }
}
