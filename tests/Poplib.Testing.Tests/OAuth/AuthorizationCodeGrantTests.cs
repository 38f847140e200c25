using System.Net;
using System.Text.Json;
using Poplib.Testing.OAuth;

namespace Poplib.Testing.Tests.OAuth;

public class AuthorizationCodeGrantTests
{
    private static async Task<(OAuthPeer Peer, string Code, string Verifier)> SignedIn(string redirectUri = OAuthPeer.RedirectUri)
    {
        var peer = OAuthPeer.Start();
        peer.Server.SignedInUser = OAuthPeer.User;
        (string verifier, string challenge) = OAuthPeer.NewPkce();
        Uri location = await peer.AuthorizeAsync(challenge, redirectUri: redirectUri);
        Dictionary<string, string> query = OAuthPeer.Query(location);
        Assert.Equal("xyz", query["state"]);
        return (peer, query["code"], verifier);
    }

    private static Task<(HttpStatusCode, JsonElement)> Exchange(OAuthPeer peer, string code, string verifier, string redirectUri = OAuthPeer.RedirectUri) =>
        peer.TokenAsync(("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectUri), ("code_verifier", verifier));

    [Fact]
    public async Task The_code_comes_back_on_the_loopback_redirect_and_its_exchange_with_the_verifier_gives_tokens()
    {
        (OAuthPeer peer, string code, string verifier) = await SignedIn();
        await using (peer)
        {
            Assert.Equal(OAuthPeer.User, peer.Server.LastRequest(OAuth2Endpoint.Authorization)!["login_hint"]);
            (HttpStatusCode status, JsonElement json) = await Exchange(peer, code, verifier);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.True(peer.Server.ValidateAccessToken(OAuthPeer.User, json.GetProperty("access_token").GetString()!));
            Assert.Equal(OAuthPeer.Scope, json.GetProperty("scope").GetString());
            string refresh = json.GetProperty("refresh_token").GetString()!;
            Assert.Equal(HttpStatusCode.OK, (await peer.RefreshAsync(refresh)).Status);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:1/cb")]
    [InlineData("http://[::1]:65000/")]
    [InlineData("http://localhost:8080/oauth?keep=1")]
    public async Task Any_loopback_port_is_taken(string redirectUri)
    {
        (OAuthPeer peer, string code, string verifier) = await SignedIn(redirectUri);
        await using (peer)
            Assert.Equal(HttpStatusCode.OK, (await Exchange(peer, code, verifier, redirectUri)).Item1);
    }

    [Fact]
    public async Task A_used_code_is_invalid_grant_and_revokes_what_it_issued()
    {
        (OAuthPeer peer, string code, string verifier) = await SignedIn();
        await using (peer)
        {
            string refresh = (await Exchange(peer, code, verifier)).Item2.GetProperty("refresh_token").GetString()!;
            Assert.Equal("invalid_grant", (await Exchange(peer, code, verifier)).Item2.GetProperty("error").GetString());
            Assert.Equal("invalid_grant", (await peer.RefreshAsync(refresh)).Json.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task A_wrong_verifier_is_invalid_grant_and_uses_the_code_up()
    {
        (OAuthPeer peer, string code, string verifier) = await SignedIn();
        await using (peer)
        {
            (HttpStatusCode status, JsonElement json) = await Exchange(peer, code, OAuthPeer.NewPkce().Verifier);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
            Assert.Contains("PKCE", json.GetProperty("error_description").GetString());
            Assert.Equal("invalid_grant", (await Exchange(peer, code, verifier)).Item2.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task A_missing_verifier_or_another_redirect_uri_is_invalid_grant()
    {
        (OAuthPeer peer, string code, _) = await SignedIn();
        await using (peer)
        {
            (_, JsonElement json) = await peer.TokenAsync(("grant_type", "authorization_code"), ("code", code), ("redirect_uri", OAuthPeer.RedirectUri));
            Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
        }

        (OAuthPeer other, string code2, string verifier2) = await SignedIn();
        await using (other)
        {
            (_, JsonElement json) = await Exchange(other, code2, verifier2, "http://127.0.0.1:9/elsewhere");
            Assert.Contains("redirect_uri", json.GetProperty("error_description").GetString());
        }
    }

    [Fact]
    public async Task A_code_expires_after_ten_minutes()
    {
        (OAuthPeer peer, string code, string verifier) = await SignedIn();
        await using (peer)
        {
            peer.Clock.Advance(TimeSpan.FromMinutes(10));
            (_, JsonElement json) = await Exchange(peer, code, verifier);
            Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
            Assert.Contains("expired", json.GetProperty("error_description").GetString());
        }
    }

    [Theory]
    [InlineData("plain", "invalid_request")]
    [InlineData("", "invalid_request")]
    public async Task Pkce_with_S256_is_required(string method, string error)
    {
        await using var peer = OAuthPeer.Start();
        peer.Server.SignedInUser = OAuthPeer.User;
        Uri location = await peer.AuthorizeAsync(OAuthPeer.NewPkce().Challenge, method: method);
        Assert.StartsWith(OAuthPeer.RedirectUri + "?error=", location.AbsoluteUri);
        Assert.Equal(error, OAuthPeer.Query(location)["error"]);
        Assert.Equal("xyz", OAuthPeer.Query(location)["state"]);
        Assert.Equal(error, OAuthPeer.Query(await peer.AuthorizeAsync("too-short"))["error"]);
    }

    [Fact]
    public async Task Without_a_signed_in_user_the_redirect_says_access_denied()
    {
        await using var peer = OAuthPeer.Start();
        Uri location = await peer.AuthorizeAsync(OAuthPeer.NewPkce().Challenge);
        Assert.Equal("access_denied", OAuthPeer.Query(location)["error"]);
        Assert.Throws<ArgumentException>(() => peer.Server.SignedInUser = "nobody@example.org");
    }

    [Theory]
    [InlineData("https://127.0.0.1:8080/cb")]
    [InlineData("http://example.org:8080/cb")]
    [InlineData("http://127.0.0.1.example.org/cb")]
    [InlineData("http://127.0.0.1:8080/cb#fragment")]
    [InlineData("/relative")]
    public async Task A_redirect_uri_that_is_not_loopback_http_gets_an_error_page_and_no_redirect(string redirectUri)
    {
        await using var peer = OAuthPeer.Start();
        peer.Server.SignedInUser = OAuthPeer.User;
        using HttpResponseMessage response = await peer.Http.GetAsync(new Uri(peer.Server.AuthorizationEndpoint
            + $"?response_type=code&client_id={OAuthPeer.ClientId}&redirect_uri={Uri.EscapeDataString(redirectUri)}&code_challenge={OAuthPeer.NewPkce().Challenge}&code_challenge_method=S256"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task An_unknown_client_gets_an_error_page()
    {
        await using var peer = OAuthPeer.Start();
        using HttpResponseMessage response = await peer.Http.GetAsync(new Uri(peer.Server.AuthorizationEndpoint + "?response_type=code&client_id=nope&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2F"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }
}
