using System.Text;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

/// <summary>Login(user, IOAuth2TokenSource): a refused token is replaced once, on the same connection.</summary>
public class TokenSourceLoginTests
{
    private const string User = "alice@example.com";
    private const string ErrorJson = "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0="; // {"status":"401","schemes":"bearer"}

    private static string XOAuth2(string token) =>
        "AUTH XOAUTH2 " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"user={User}\u0001auth=Bearer {token}\u0001\u0001"));

    private static ScriptedServer.Script Greeted(ScriptedServer.Script s) => s.Greet().Capa("USER", "SASL XOAUTH2", "AUTH-RESP-CODE");

    private static ScriptedServer.Script Refuse(ScriptedServer.Script s, string token, string error = "-ERR [AUTH] Invalid credentials") =>
        s.Expect(XOAuth2(token)).Send("+ " + ErrorJson).Expect("").Send(error);

    private static async Task<Pop3Client> Connect(bool async, ScriptedServer server)
    {
        Pop3ClientOptions options = Both.Plain();
        options.AllowInsecureAuthentication = true;
        return await Both.Connect(async, server.Port, options);
    }

    private static Task<Pop3Response> Login(bool async, Pop3Client client, IOAuth2TokenSource tokens) =>
        Both.Run(async, () => client.Login(User, tokens), () => client.LoginAsync(User, tokens));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refused_token_is_replaced_and_the_login_succeeds_on_the_same_connection(bool async)
    {
        var tokens = new SequenceTokenSource("expired-token", "fresh-token");
        await using var server = ScriptedServer.Start(s => Refuse(Greeted(s), "expired-token").On(XOAuth2("fresh-token"), "+OK welcome").Capa("TOP"));
        using Pop3Client client = await Connect(async, server);

        await Login(async, client, tokens);

        Assert.True(client.IsAuthenticated);
        Assert.Equal(["expired-token"], tokens.Invalidated);
        Assert.Equal(async ? 2 : 0, tokens.AsyncCalls);
        Assert.Equal(async ? 0 : 2, tokens.SyncCalls);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_second_refusal_is_final_one_retry_only(bool async)
    {
        var tokens = new SequenceTokenSource("first", "second", "third");
        await using var server = ScriptedServer.Start(s => Refuse(Refuse(Greeted(s), "first"), "second"));
        using Pop3Client client = await Connect(async, server);

        var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => Login(async, client, tokens));

        Assert.Equal(Pop3ResponseCode.Auth, refused.ResponseCode);
        Assert.Equal(["first"], tokens.Invalidated);
        Assert.Equal(2, server.Received.Count(line => line.StartsWith("AUTH ", StringComparison.Ordinal)));
        Assert.DoesNotContain("second", refused.Message, StringComparison.Ordinal);
        Assert.Equal(Pop3SessionState.Authorization, client.State);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_fixed_token_is_not_sent_twice(bool async)
    {
        await using var server = ScriptedServer.Start(s => Refuse(Greeted(s), "only"));
        using Pop3Client client = await Connect(async, server);

        await Assert.ThrowsAsync<Pop3CommandException>(() => Login(async, client, new StaticOAuth2TokenSource(new OAuth2AccessToken("only"))));

        Assert.Single(server.Received, line => line.StartsWith("AUTH ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false, "-ERR [IN-USE] mailbox locked")]
    [InlineData(true, "-ERR [SYS/TEMP] try later")]
    public async Task A_refusal_a_new_token_cannot_fix_is_not_retried(bool async, string error)
    {
        var tokens = new SequenceTokenSource("good", "other");
        await using var server = ScriptedServer.Start(s => Refuse(Greeted(s), "good", error));
        using Pop3Client client = await Connect(async, server);

        await Assert.ThrowsAsync<Pop3CommandException>(() => Login(async, client, tokens));

        Assert.Empty(tokens.Invalidated);
        Assert.Single(server.Received, line => line.StartsWith("AUTH ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_broken_connection_is_not_retried(bool async)
    {
        var tokens = new SequenceTokenSource("first", "second");
        await using var server = ScriptedServer.Start(s => Greeted(s).Expect(XOAuth2("first")).Close());
        using Pop3Client client = await Connect(async, server);

        await Assert.ThrowsAnyAsync<Pop3Exception>(() => Login(async, client, tokens));

        Assert.Empty(tokens.Invalidated);
    }

    [Theory]
    [InlineData(false, "oauthbearer")]
    [InlineData(true, "XOAUTH2")]
    public async Task The_caller_may_choose_the_mechanism(bool async, string mechanism)
    {
        var tokens = new SequenceTokenSource("tok");
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("SASL OAUTHBEARER XOAUTH2").Expect(null).Send("+OK").Capa("TOP"));
        using Pop3Client client = await Connect(async, server);

        await Both.Run(async, () => client.Login(User, tokens, mechanism), () => client.LoginAsync(User, tokens, mechanism));

        string sent = server.Received.Single(line => line.StartsWith("AUTH ", StringComparison.Ordinal));
        Assert.StartsWith("AUTH " + mechanism.ToUpperInvariant() + " ", sent, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => client.Login(User, tokens, "PLAIN"));
    }

    [Fact]
    public void The_static_source_never_shows_its_token()
    {
        var source = new StaticOAuth2TokenSource(new OAuth2AccessToken("s3cret-token"));
        Assert.DoesNotContain("s3cret", source.ToString(), StringComparison.Ordinal);
        Assert.False(source.Invalidate(new OAuth2AccessToken("s3cret-token")));
        Assert.ThrowsAny<ArgumentException>(() => new StaticOAuth2TokenSource(default));
    }

    /// <summary>Hands out the given tokens in turn and records what it was told.</summary>
    private sealed class SequenceTokenSource(params string[] tokens) : IOAuth2TokenSource
    {
        private int _next;

        public List<string> Invalidated { get; } = [];

        public int SyncCalls { get; private set; }

        public int AsyncCalls { get; private set; }

        public OAuth2AccessToken GetAccessToken(CancellationToken cancellationToken = default)
        {
            SyncCalls++;
            return Current();
        }

        public Task<OAuth2AccessToken> GetAccessTokenAsync(CancellationToken cancellationToken = default)
        {
            AsyncCalls++;
            return Task.FromResult(Current());
        }

        public bool Invalidate(OAuth2AccessToken refused)
        {
            Invalidated.Add(refused.Value);
            _next++;
            return _next < tokens.Length;
        }

        private OAuth2AccessToken Current() => new(tokens[_next]);
    }
}
