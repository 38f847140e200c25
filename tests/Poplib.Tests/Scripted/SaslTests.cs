using Poplib.Sasl;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

/// <summary>AUTH (RFC 5034) with every built-in mechanism, checked against the RFCs' own examples.</summary>
public class SaslTests
{
    private const string ScramSha1ClientFirst = "biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM";
    private const string ScramSha1ServerFirst = "cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZSlkxWlZ2V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==";
    private const string ScramSha1ClientFinal = "Yz1iaXdzLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdMM3JmY05IWUpZMVpWdldWczdqLHA9djBYOHYzQnoyVDBDSkdiSlF5RjBYK0hJNFRzPQ==";
    private const string ScramSha1ServerFinal = "dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9";
    private const string ScramSha256ClientFirst = "biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=";
    private const string ScramSha256ServerFirst = "cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=";
    private const string ScramSha256ClientFinal = "Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYkazAscD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ==";
    private const string ScramSha256ServerFinal = "dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==";
    private const string OAuthErrorJson = "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=";

    private static Task<Pop3Client> Connect(bool async, ScriptedServer server, bool allowInsecure = true)
    {
        Pop3ClientOptions options = Both.Plain();
        options.AllowInsecureAuthentication = allowInsecure;
        return Both.Connect(async, server.Port, options);
    }

    private static Task<Pop3Response> Auth(bool async, Pop3Client client, ISaslMechanism mechanism) =>
        Both.Run(async, () => client.Auth(mechanism), () => client.AuthAsync(mechanism));

    private static ScriptedServer.Script Greeted(ScriptedServer.Script s, string sasl) =>
        s.Greet().Capa("USER", "SASL " + sasl, "AUTH-RESP-CODE");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Plain_with_and_without_authzid(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "PLAIN")
            .On("AUTH PLAIN YWRtaW4AdGltAHRhbnN0YWFm", "+OK welcome").Capa("TOP"));
        using Pop3Client client = await Connect(async, server);
        await Auth(async, client, new SaslPlain("tim", "tanstaaf", authorizationId: "admin"));
        Assert.True(client.IsAuthenticated);
        await server.VerifyAsync();

        await using var second = ScriptedServer.Start(s => Greeted(s, "PLAIN").On("AUTH PLAIN AHRpbQB0YW5zdGFhZg==", "+OK").Capa("TOP"));
        using Pop3Client other = await Connect(async, second);
        await Auth(async, other, new SaslPlain("tim", "tanstaaf"));
        Assert.True(other.IsAuthenticated);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Login_answers_the_two_prompts(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "LOGIN")
            .Expect("AUTH LOGIN").Send("+ VXNlcm5hbWU6")
            .Expect("dGlt").Send("+ UGFzc3dvcmQ6")
            .Expect("dGFuc3RhYWY=").Send("+OK").Capa("TOP"));
        using Pop3Client client = await Connect(async, server);
        await Auth(async, client, new SaslLogin("tim", "tanstaaf"));
        Assert.True(client.IsAuthenticated);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CramMd5_matches_rfc2195(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "CRAM-MD5")
            .Expect("AUTH CRAM-MD5").Send("+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+")
            .Expect("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw").Send("+OK").Capa("TOP"));
        using Pop3Client client = await Connect(async, server); // a plain link: opted in (InsecureLoginTests covers the refusal)
        await Auth(async, client, new SaslCramMd5("tim", "tanstaaftanstaaf"));
        Assert.True(client.IsAuthenticated);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ScramSha1_matches_rfc5802(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "SCRAM-SHA-1")
            .Expect("AUTH SCRAM-SHA-1 " + ScramSha1ClientFirst).Send("+ " + ScramSha1ServerFirst)
            .Expect(ScramSha1ClientFinal).Send("+ " + ScramSha1ServerFinal)
            .Expect("").Send("+OK").Capa("TOP"));
        using Pop3Client client = await Connect(async, server); // a plain link: opted in (InsecureLoginTests covers the refusal)
        await Auth(async, client, new SaslScramSha1("user", "pencil", "fyko+d2lbbFgONRv9qkxdawL"));
        Assert.True(client.IsAuthenticated);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ScramSha256_matches_rfc7677(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "SCRAM-SHA-256")
            .Expect("AUTH SCRAM-SHA-256 " + ScramSha256ClientFirst).Send("+ " + ScramSha256ServerFirst)
            .Expect(ScramSha256ClientFinal).Send("+ " + ScramSha256ServerFinal)
            .Expect("").Send("+OK").Capa("TOP"));
        using Pop3Client client = await Connect(async, server); // a plain link: opted in (InsecureLoginTests covers the refusal)
        await Auth(async, client, new SaslScramSha256("user", "pencil", "rOprNGfwEbeRWgbNEkqO"));
        Assert.True(client.IsAuthenticated);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Wrong_scram_server_signature_closes_the_connection_as_an_impostor(bool async)
    {
        // The server does not know the password: whatever it says next cannot be trusted, so the
        // client neither cancels nor sends anything else; it hangs up.
        await using var server = ScriptedServer.Start(s => Greeted(s, "SCRAM-SHA-1")
            .Expect("AUTH SCRAM-SHA-1 " + ScramSha1ClientFirst).Send("+ " + ScramSha1ServerFirst)
            .Expect(ScramSha1ClientFinal).Send("+ dj1BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE9")
            .ExpectHangUp());
        using Pop3Client client = await Connect(async, server);

        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Auth(async, client, new SaslScramSha1("user", "pencil", "fyko+d2lbbFgONRv9qkxdawL")));
        Assert.Equal(Pop3AuthenticationFailure.ServerNotAuthenticated, error.Reason);
        Assert.Contains("signature", error.Message);
        Assert.True(Assert.IsType<SaslException>(error.InnerException).ServerNotAuthenticated);
        Assert.False(client.IsConnected);
        Assert.Equal(Pop3SessionState.Closed, client.State);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false, "+OK trust me")]
    [InlineData(true, "+OK trust me")]
    [InlineData(false, "+OK dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9")] // even the right signature, but not as the challenge RFC 5034 requires
    [InlineData(true, "+OK dj1BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE9")]
    public async Task Scram_success_without_a_verified_server_signature_is_refused_and_closes(bool async, string success)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "SCRAM-SHA-1")
            .Expect("AUTH SCRAM-SHA-1 " + ScramSha1ClientFirst).Send("+ " + ScramSha1ServerFirst)
            .Expect(ScramSha1ClientFinal).Send(success)
            .ExpectHangUp());
        using Pop3Client client = await Connect(async, server);
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Auth(async, client, new SaslScramSha1("user", "pencil", "fyko+d2lbbFgONRv9qkxdawL")));
        Assert.Equal(Pop3AuthenticationFailure.ServerNotAuthenticated, error.Reason);
        Assert.False(client.IsConnected);
        Assert.False(client.IsAuthenticated);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_custom_mechanism_can_say_the_server_failed_to_authenticate(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "X-MUTUAL")
            .Expect("AUTH X-MUTUAL").Send("+ " + Convert.ToBase64String("not the proof"u8))
            .ExpectHangUp());
        using Pop3Client client = await Connect(async, server);
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Auth(async, client, new MutualMechanism()));
        Assert.Equal(Pop3AuthenticationFailure.ServerNotAuthenticated, error.Reason);
        Assert.Contains("proof", error.Message);
        Assert.False(client.IsConnected);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData("cj1ub3QtbXktbm9uY2Uscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==", "nonce")] // r=not-my-nonce
    [InlineData("cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZSlkxWlZ2V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9OTk5OTk5OTk5", "iteration")] // i=999999999
    [InlineData("bm90IGJhc2U2NCE=", "Malformed")] // "not base64!"
    public async Task Bad_scram_server_first_messages_cancel_the_exchange(string serverFirst, string expected)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "SCRAM-SHA-1")
            .Expect("AUTH SCRAM-SHA-1 " + ScramSha1ClientFirst).Send("+ " + serverFirst)
            .On("*", "-ERR cancelled"));
        using Pop3Client client = await Connect(async: false, server);
        var error = Assert.Throws<Pop3AuthenticationException>(() => client.Auth(new SaslScramSha1("user", "pencil", "fyko+d2lbbFgONRv9qkxdawL")));
        Assert.Contains(expected, error.Message);
        Assert.True(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Err_mid_exchange_carries_the_response_code(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "SCRAM-SHA-256")
            .Expect("AUTH SCRAM-SHA-256 " + ScramSha256ClientFirst).Send("+ " + ScramSha256ServerFirst)
            .Expect(ScramSha256ClientFinal).Send("-ERR [AUTH] Authentication failed."));
        using Pop3Client client = await Connect(async, server);
        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => Auth(async, client, new SaslScramSha256("user", "pencil", "rOprNGfwEbeRWgbNEkqO")));
        Assert.Equal(Pop3ResponseCode.Auth, error.ResponseCode);
        Assert.Equal("AUTH SCRAM-SHA-256", error.Command);
        Assert.True(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task XOAuth2_accepted_and_rejected_with_the_json_error(bool async)
    {
        const string Token = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg";
        const string Initial = "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==";
        await using var server = ScriptedServer.Start(s => Greeted(s, "XOAUTH2")
            .Expect("AUTH XOAUTH2 " + Initial).Send("+ " + OAuthErrorJson)
            .Expect("").Send("-ERR [AUTH] Invalid credentials")
            .On("AUTH XOAUTH2 " + Initial, "+OK").Capa("TOP"));
        using Pop3Client client = await Connect(async, server);

        var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async,
            () => client.Login("someuser@example.com", new OAuth2AccessToken(Token)),
            () => client.LoginAsync("someuser@example.com", new OAuth2AccessToken(Token))));
        Assert.Equal(Pop3ResponseCode.Auth, refused.ResponseCode);
        Assert.Contains("\"status\":\"invalid_token\"", refused.Details);
        Assert.DoesNotContain(Token, refused.Message);

        await Both.Run(async, () => client.Login("someuser@example.com", new OAuth2AccessToken(Token)), () => client.LoginAsync("someuser@example.com", new OAuth2AccessToken(Token)));
        Assert.True(client.IsAuthenticated);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OAuthBearer_matches_rfc7628_and_acknowledges_errors_with_0x01(bool async)
    {
        const string Initial = "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2c9PQEB";
        await using var server = ScriptedServer.Start(s => Greeted(s, "OAUTHBEARER XOAUTH2")
            .Expect("AUTH OAUTHBEARER " + Initial).Send("+ " + OAuthErrorJson)
            .Expect("AQ==").Send("-ERR [AUTH] token expired")
            .On("AUTH OAUTHBEARER " + Initial, "+OK").Capa("TOP"));
        using Pop3Client client = await Connect(async, server);
        var mechanism = new SaslOAuthBearer("user@example.com", "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==", "server.example.com", 143);

        var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => Auth(async, client, mechanism));
        Assert.Contains("example_scope", refused.Details);
        Assert.Contains("invalid_token", mechanism.ErrorJson);
        await Auth(async, client, new SaslOAuthBearer("user@example.com", "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==", "server.example.com", 143));
        Assert.True(client.IsAuthenticated);
    }

    [Fact]
    public async Task Long_initial_response_waits_for_an_empty_challenge()
    {
        string token = new('t', 300);
        string encoded = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"user=u@example.com\u0001auth=Bearer {token}\u0001\u0001"));
        await using var server = ScriptedServer.Start(s => Greeted(s, "XOAUTH2")
            .Expect("AUTH XOAUTH2").Send("+ ")
            .Expect(encoded).Send("+OK").Capa("TOP"));
        using Pop3Client client = await Connect(async: false, server);
        client.Auth(new SaslXOAuth2("u@example.com", token));
        Assert.True(client.IsAuthenticated);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Secret_revealing_mechanisms_are_refused_on_a_plain_link_before_sending(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "PLAIN LOGIN XOAUTH2"));
        using Pop3Client client = await Connect(async, server, allowInsecure: false);
        await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Auth(async, client, new SaslPlain("tim", "pw")));
        await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Auth(async, client, new SaslLogin("tim", "pw")));
        await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Auth(async, client, new SaslXOAuth2("tim", "token")));
        await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Login("tim", "pw"), () => client.LoginAsync("tim", "pw")));
        await server.VerifyAsync();
        Assert.Equal(["CAPA"], server.Received);
    }

    [Fact]
    public async Task Auth_lines_are_masked_in_debug_output()
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "SCRAM-SHA-1")
            .Expect("AUTH SCRAM-SHA-1 " + ScramSha1ClientFirst).Send("+ " + ScramSha1ServerFirst)
            .Expect(ScramSha1ClientFinal).Send("+ " + ScramSha1ServerFinal)
            .Expect("").Send("+OK").Capa("TOP"));
        var writer = new StringWriter();
        Pop3ClientOptions options = Both.Plain();
        options.DebugLevel = 2;
        options.DebugWriter = writer;
        using Pop3Client client = Pop3Client.Connect("127.0.0.1", server.Port, options);
        client.Auth(new SaslScramSha1("user", "pencil", "fyko+d2lbbFgONRv9qkxdawL"));

        string transcript = writer.ToString();
        Assert.Contains("C: AUTH SCRAM-SHA-1 ****", transcript);
        Assert.DoesNotContain(ScramSha1ClientFinal, transcript);
        Assert.DoesNotContain(ScramSha1ClientFirst, transcript);
        Assert.Contains("C: ****", transcript);
    }

    [Fact]
    public async Task Login_with_nothing_safe_on_offer_says_how_to_fix_it()
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("USER", "SASL PLAIN"));
        using Pop3Client client = await Connect(async: false, server, allowInsecure: false);
        var error = Assert.Throws<Pop3AuthenticationException>(() => client.Login("tim", "pw"));
        Assert.Contains("Stls", error.Message);
    }

    [Fact]
    public async Task Login_with_non_ascii_credentials_enables_utf8_first()
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("USER", "UTF8 USER")
            .On("UTF8", "+OK")
            .On("USER jörg", "+OK")
            .On("PASS pässwörd", "+OK")
            .Capa("TOP"));
        using Pop3Client client = await Connect(async: true, server);
        await client.LoginAsync("jörg", "pässwörd");
        Assert.True(client.IsUtf8);
        Assert.True(client.IsAuthenticated);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Lang_lists_and_sets(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("LANG")
            .On("LANG", "+OK Language listing follows", "en English", "de  Deutsch", "i-default Default language", ".")
            .On("LANG de", "+OK Sprache geändert")
            .On("LANG xx", "-ERR invalid language"));
        using Pop3Client client = await Connect(async, server);
        Assert.True(client.Capabilities.Lang);
        IReadOnlyList<Pop3Language> languages = await Both.Run(async, () => client.Lang(), () => client.LangAsync());
        Assert.Equal([new("en", "English"), new("de", "Deutsch"), new("i-default", "Default language")], languages);
        Pop3Response set = await Both.Run(async, () => client.Lang("de"), () => client.LangAsync("de"));
        Assert.Equal("Sprache geändert", set.Text);
        await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Lang("xx"), () => client.LangAsync("xx")));
        Assert.Throws<ArgumentException>(() => client.Lang("de\r\nDELE 1"));
    }

    [Fact]
    public void Credentials_saslprep_refuses_fail_before_anything_is_sent()
    {
        Assert.Throws<ArgumentException>(() => new SaslScramSha256("user", "tab\there"));
        Assert.Throws<ArgumentException>(() => new SaslScramSha1("user", "bidi\u202Econtrol"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_custom_mechanism_that_throws_mid_exchange_is_cancelled_and_the_session_stays_in_step(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "X-CUSTOM")
            .Expect("AUTH X-CUSTOM").Send("+ Y2hhbGxlbmdl")
            .On("*", "-ERR cancelled")
            .On("CAPA", "+OK", "SASL X-CUSTOM", "."));
        using Pop3Client client = await Connect(async, server);
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Auth(async, client, new ThrowingMechanism()));
        Assert.Equal(Pop3AuthenticationFailure.Cancelled, error.Reason);
        Assert.IsType<InvalidOperationException>(error.InnerException);
        await Both.Run(async, () => client.Capa(), () => client.CapaAsync());
        await server.VerifyAsync();
    }

    [Fact]
    public async Task Cancellation_mid_exchange_closes_the_connection()
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "SCRAM-SHA-1")
            .Expect("AUTH SCRAM-SHA-1 " + ScramSha1ClientFirst).Delay(TimeSpan.FromSeconds(30)));
        using Pop3Client client = await Connect(async: true, server);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.AuthAsync(new SaslScramSha1("user", "pencil", "fyko+d2lbbFgONRv9qkxdawL"), cts.Token));
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task Insecure_refusals_say_why()
    {
        await using var server = ScriptedServer.Start(s => Greeted(s, "PLAIN"));
        using Pop3Client client = await Connect(async: false, server, allowInsecure: false);
        var error = Assert.Throws<Pop3AuthenticationException>(() => client.Auth(new SaslPlain("u", "p")));
        Assert.Equal(Pop3AuthenticationFailure.InsecureConnection, error.Reason);
    }

    /// <summary>A third-party mechanism that authenticates the server, as SCRAM does.</summary>
    private sealed class MutualMechanism : ISaslMechanism
    {
        public string Name => "X-MUTUAL";

        public bool ExposesSecret => false;

        public bool HasInitialResponse => false;

        public byte[] Respond(ReadOnlySpan<byte> challenge) =>
            throw new SaslException("the server's proof is wrong") { ServerNotAuthenticated = true };

        public void Complete()
        {
        }
    }

    private sealed class ThrowingMechanism : ISaslMechanism
    {
        public string Name => "X-CUSTOM";

        public bool ExposesSecret => false;

        public bool HasInitialResponse => false;

        public byte[] Respond(ReadOnlySpan<byte> challenge) => throw new InvalidOperationException("custom mechanism bug");

        public void Complete()
        {
        }
    }
}
