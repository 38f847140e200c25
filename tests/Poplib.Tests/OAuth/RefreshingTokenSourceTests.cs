using Poplib.Fetch;
using Poplib.Fetch.OAuth;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.OAuth;

/// <summary>RefreshingOAuth2TokenSource against a real HTTP peer: refresh, rotation, caching, and hostile token endpoints.</summary>
public sealed class RefreshingTokenSourceTests : IDisposable
{
    private const string Account = "work";
    private const string RefreshToken = "rt-original-5ecret";
    private const string ClientSecret = "client-5ecret-value";

    private readonly string _directory = Directory.CreateTempSubdirectory("poplib-oauth-").FullName;

    private OAuth2TokenStore Store() => new(Path.Combine(_directory, "oauth"));

    private OAuth2TokenStore SignedIn(Uri endpoint)
    {
        OAuth2TokenStore store = Store();
        store.Save(Account, new OAuth2Grant
        {
            Provider = "custom",
            ClientId = "client-1",
            ClientSecret = ClientSecret,
            TokenEndpoint = endpoint,
            Scopes = ["mail", "offline_access"],
            User = "alice@example.com",
            RefreshToken = RefreshToken,
            Obtained = DateTimeOffset.UtcNow,
        });
        return store;
    }

    private static Task<OAuth2AccessToken> Get(bool async, RefreshingOAuth2TokenSource source) =>
        Both.Run(async, () => source.GetAccessToken(), () => source.GetAccessTokenAsync());

    private static int _issued;

    private static byte[] Issue(Dictionary<string, string> form, bool rotate = true)
    {
        int n = Interlocked.Increment(ref _issued);
        return TinyTokenServer.Json(
            $$"""{"access_token":"at-{{n}}","token_type":"Bearer","expires_in":3600{{(rotate ? $",\"refresh_token\":\"rt-rotated-{n}\"" : "")}}}""");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Refreshes_persists_the_rotated_refresh_token_then_serves_from_the_cache(bool async)
    {
        await using var server = new TinyTokenServer(form => Task.FromResult(Issue(form)));
        OAuth2TokenStore store = SignedIn(server.Endpoint);
        using var source = new RefreshingOAuth2TokenSource(store, Account);

        OAuth2AccessToken first = await Get(async, source);
        OAuth2AccessToken again = await Get(async, source);

        Assert.Equal(first, again);
        Assert.Single(server.Requests);
        Dictionary<string, string> form = server.Requests[0];
        Assert.Equal("refresh_token", form["grant_type"]);
        Assert.Equal(RefreshToken, form["refresh_token"]);
        Assert.Equal("client-1", form["client_id"]);
        Assert.Equal(ClientSecret, form["client_secret"]);
        Assert.Equal("mail offline_access", form["scope"]);

        OAuth2Grant saved = store.Load(Account)!;
        Assert.StartsWith("rt-rotated-", saved.RefreshToken, StringComparison.Ordinal);
        Assert.Equal(first.Value, saved.AccessToken);
        Assert.NotNull(saved.Refreshed);

        // A new process (a new source) finds the cached access token in the file and asks nothing.
        using var later = new RefreshingOAuth2TokenSource(store, Account);
        Assert.Equal(first, await Get(async, later));
        Assert.Single(server.Requests);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refused_token_is_replaced_with_a_fresh_one(bool async)
    {
        await using var server = new TinyTokenServer(form => Task.FromResult(Issue(form, rotate: false)));
        using var source = new RefreshingOAuth2TokenSource(SignedIn(server.Endpoint), Account);

        OAuth2AccessToken first = await Get(async, source);
        Assert.True(source.Invalidate(first));
        OAuth2AccessToken second = await Get(async, source);

        Assert.NotEqual(first, second);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(RefreshToken, server.Requests[1]["refresh_token"]); // no rotation: the old one is kept
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_token_close_to_expiry_is_refreshed(bool async)
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = new TinyTokenServer(form => Task.FromResult(Issue(form)));
        using var source = new RefreshingOAuth2TokenSource(SignedIn(server.Endpoint), Account, new RefreshingOAuth2TokenSourceOptions { TimeProvider = clock });

        OAuth2AccessToken first = await Get(async, source);
        clock.Advance(TimeSpan.FromMinutes(57)); // 3 min left: kept (margin 2 min)
        Assert.Equal(first, await Get(async, source));
        clock.Advance(TimeSpan.FromMinutes(2)); // 1 min left: replaced
        Assert.NotEqual(first, await Get(async, source));
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Two_sessions_of_one_account_refresh_once()
    {
        await using var server = new TinyTokenServer(async form =>
        {
            await Task.Delay(200);
            return Issue(form);
        });
        OAuth2TokenStore store = SignedIn(server.Endpoint);
        using var one = new RefreshingOAuth2TokenSource(store, Account);
        using var other = new RefreshingOAuth2TokenSource(store, Account);

        OAuth2AccessToken[] tokens = await Task.WhenAll(
            Task.Run(() => one.GetAccessTokenAsync()), Task.Run(() => other.GetAccessTokenAsync()),
            Task.Run(() => one.GetAccessTokenAsync()), Task.Run(() => other.GetAccessToken()));

        Assert.Single(server.Requests);
        Assert.Single(tokens.Distinct());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_revoked_sign_in_says_to_sign_in_again_and_shows_no_secret(bool async)
    {
        await using var server = new TinyTokenServer(_ => Task.FromResult(TinyTokenServer.Json(
            """{"error":"invalid_grant","error_description":"AADSTS70008: The refresh token has expired.\u001b[31m"}""", 400)));
        using var source = new RefreshingOAuth2TokenSource(SignedIn(server.Endpoint), Account,
            new RefreshingOAuth2TokenSourceOptions { SignInHint = "run 'poplib oauth login --account work' again" });

        var error = await Assert.ThrowsAsync<OAuth2Exception>(() => Get(async, source));

        Assert.True(error.SignInRequired);
        Assert.Equal("invalid_grant", error.Error);
        Assert.Contains("no longer valid", error.Message, StringComparison.Ordinal);
        Assert.Contains("poplib oauth login --account work", error.Message, StringComparison.Ordinal);
        Assert.Contains("AADSTS70008", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', error.Message);
        AssertNoSecret(error.ToString());
        Assert.Equal(FetchFailure.Authentication, FetchException.From(error).Failure);
    }

    public static TheoryData<bool, string> Hostile => Both.Paths("garbage", "huge", "huge-chunked", "redirect", "500", "not-bearer", "control-in-token");

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task A_hostile_token_endpoint_gives_a_bounded_clear_error_without_secrets(bool async, string kind)
    {
        await using var server = new TinyTokenServer(_ => Task.FromResult(kind switch
        {
            "garbage" => TinyTokenServer.Raw(200, "application/json", "<html>{{{"u8.ToArray()),
            "huge" => TinyTokenServer.Json("{\"access_token\":\"" + new string('a', 3 << 20) + "\"}"),
            "huge-chunked" => System.Text.Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
                .Concat(Enumerable.Repeat(System.Text.Encoding.ASCII.GetBytes("10000\r\n" + new string('x', 0x10000) + "\r\n"), 40).SelectMany(b => b)).ToArray(),
            "redirect" => TinyTokenServer.Raw(307, "text/plain", [], "Location: https://evil.example.net/steal\r\n"),
            "500" => TinyTokenServer.Raw(500, "text/html", "<h1>oops</h1>"u8.ToArray()),
            "not-bearer" => TinyTokenServer.Json("""{"access_token":"at","token_type":"mac","expires_in":60}"""),
            _ => TinyTokenServer.Json("""{"access_token":"at\r\nQUIT","token_type":"Bearer","expires_in":60}"""),
        }));
        using var source = new RefreshingOAuth2TokenSource(SignedIn(server.Endpoint), Account);

        var error = await Assert.ThrowsAsync<OAuth2Exception>(() => Get(async, source));

        Assert.False(error.SignInRequired);
        AssertNoSecret(error.ToString());
        Assert.True(error.Message.Length < 500, error.Message);
        if (kind == "redirect")
            Assert.Contains("evil.example.net", error.Message, StringComparison.Ordinal);
        if (kind.StartsWith("huge", StringComparison.Ordinal))
            Assert.Contains("limit", error.Message, StringComparison.Ordinal);
        Assert.Equal(RefreshToken, Store().Load(Account)!.RefreshToken); // nothing written
        Assert.Equal(FetchFailure.Connection, FetchException.From(error).Failure);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_silent_token_endpoint_times_out(bool async)
    {
        await using var server = new TinyTokenServer(async _ =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30));
            return [];
        });
        using var source = new RefreshingOAuth2TokenSource(SignedIn(server.Endpoint), Account,
            new RefreshingOAuth2TokenSourceOptions { Http = new OAuth2HttpOptions { Timeout = TimeSpan.FromMilliseconds(500) } });
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<OAuth2Exception>(() => Get(async, source));

        Assert.Contains("did not answer within", error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Endpoints_in_the_clear_are_refused_unless_on_loopback()
    {
        Assert.Throws<ArgumentException>(() => OAuth2Provider.Custom(new Uri("http://login.example.com/token"), ["mail"]));
        Assert.Throws<ArgumentException>(() => OAuth2Provider.Custom(new Uri("ftp://login.example.com/token"), ["mail"]));
        Assert.NotNull(OAuth2Provider.Custom(new Uri("http://127.0.0.1:8080/token"), ["mail"]));
        Assert.NotNull(OAuth2Provider.Custom(new Uri("https://login.example.com/token"), ["mail"]));
    }

    [Fact]
    public void Presets_carry_the_documented_endpoints_and_scopes()
    {
        OAuth2Provider microsoft = OAuth2Provider.Microsoft("organizations");
        Assert.Equal("https://login.microsoftonline.com/organizations/oauth2/v2.0/token", microsoft.TokenEndpoint.AbsoluteUri);
        Assert.Equal("https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode", microsoft.DeviceAuthorizationEndpoint!.AbsoluteUri);
        Assert.Equal(["https://outlook.office.com/POP.AccessAsUser.All", "offline_access"], microsoft.Scopes);
        Assert.Equal("common", OAuth2Provider.Microsoft().Tenant);
        Assert.Throws<ArgumentException>(() => OAuth2Provider.Microsoft("../evil"));

        OAuth2Provider google = OAuth2Provider.Google();
        Assert.Null(google.DeviceAuthorizationEndpoint);
        Assert.Equal("https://oauth2.googleapis.com/token", google.TokenEndpoint.AbsoluteUri);
        Assert.Equal(["https://mail.google.com/"], google.Scopes);
        Assert.Equal("offline", google.AuthorizationParameters["access_type"]);
    }

    private static void AssertNoSecret(string text)
    {
        Assert.DoesNotContain(RefreshToken, text, StringComparison.Ordinal);
        Assert.DoesNotContain(ClientSecret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("rt-rotated", text, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
