using System.Net;
using System.Text.Json;
using Poplib.Testing.OAuth;

namespace Poplib.Testing.Tests.OAuth;

public class RefreshTokenGrantTests
{
    [Fact]
    public async Task Refresh_rotates_and_the_old_token_is_then_invalid_grant()
    {
        await using var peer = OAuthPeer.Start();
        string first = peer.Server.IssueRefreshToken(OAuthPeer.ClientId, OAuthPeer.User, OAuthPeer.Scope);

        (HttpStatusCode status, JsonElement json) = await peer.RefreshAsync(first);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Bearer", json.GetProperty("token_type").GetString());
        Assert.Equal(3600, json.GetProperty("expires_in").GetInt32());
        Assert.Equal(OAuthPeer.Scope, json.GetProperty("scope").GetString());
        string second = json.GetProperty("refresh_token").GetString()!;
        Assert.NotEqual(first, second);
        Assert.True(peer.Server.ValidateAccessToken(OAuthPeer.User, json.GetProperty("access_token").GetString()!));
        Assert.Equal(first, peer.Server.LastRequest(OAuth2Endpoint.Token)!["refresh_token"]);

        (status, json) = await peer.RefreshAsync(second);
        Assert.Equal(HttpStatusCode.OK, status);
        string third = json.GetProperty("refresh_token").GetString()!;
        Assert.Equal(second, peer.Server.LastRequest(OAuth2Endpoint.Token)!["refresh_token"]);
        Assert.Equal(2, peer.Server.RequestCount(OAuth2Endpoint.Token));

        // The replay of a rotated-away token fails, and takes the whole line with it.
        (status, json) = await peer.RefreshAsync(first);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
        (_, json) = await peer.RefreshAsync(third);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Without_family_revocation_only_the_replayed_token_fails()
    {
        await using var peer = OAuthPeer.Start();
        peer.Server.RevokeFamilyOnRefreshTokenReuse = false;
        string first = peer.Server.IssueRefreshToken(OAuthPeer.ClientId, OAuthPeer.User, OAuthPeer.Scope);
        string second = (await peer.RefreshAsync(first)).Json.GetProperty("refresh_token").GetString()!;
        Assert.Equal("invalid_grant", (await peer.RefreshAsync(first)).Json.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, (await peer.RefreshAsync(second)).Status);
    }

    [Fact]
    public async Task Without_rotation_the_answer_has_no_refresh_token_and_the_old_one_stays_good()
    {
        await using var peer = OAuthPeer.Start();
        peer.Server.RotateRefreshTokens = false;
        string token = peer.Server.IssueRefreshToken(OAuthPeer.ClientId, OAuthPeer.User, OAuthPeer.Scope);
        (HttpStatusCode status, JsonElement json) = await peer.RefreshAsync(token);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(json.TryGetProperty("refresh_token", out _));
        Assert.Equal(HttpStatusCode.OK, (await peer.RefreshAsync(token)).Status);
    }

    [Fact]
    public async Task Access_tokens_expire_on_the_servers_clock()
    {
        await using var peer = OAuthPeer.Start();
        peer.Server.AccessTokenLifetime = TimeSpan.FromMinutes(5);
        peer.Server.AccessTokenLength = 2500;
        string refresh = peer.Server.IssueRefreshToken(OAuthPeer.ClientId, OAuthPeer.User, OAuthPeer.Scope);
        JsonElement json = (await peer.RefreshAsync(refresh)).Json;
        string access = json.GetProperty("access_token").GetString()!;
        Assert.Equal(2500, access.Length);
        Assert.Equal(300, json.GetProperty("expires_in").GetInt32());

        Assert.True(peer.Server.ValidateAccessToken(OAuthPeer.User, access));
        Assert.False(peer.Server.ValidateAccessToken("bob@example.org", access));
        peer.Clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.True(peer.Server.ValidateAccessToken(OAuthPeer.User, access));
        peer.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(peer.Server.ValidateAccessToken(OAuthPeer.User, access));
    }

    [Fact]
    public async Task Revoked_and_expired_refresh_tokens_are_invalid_grant_and_revoked_access_tokens_stop_working()
    {
        await using var peer = OAuthPeer.Start();
        string refresh = peer.Server.IssueRefreshToken(OAuthPeer.ClientId, OAuthPeer.User, OAuthPeer.Scope);
        string access = peer.Server.IssueAccessToken(OAuthPeer.ClientId, OAuthPeer.User, OAuthPeer.Scope);
        peer.Server.RevokeRefreshTokens(OAuthPeer.User);
        (HttpStatusCode status, JsonElement json) = await peer.RefreshAsync(refresh);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
        Assert.Contains("Sign in again", json.GetProperty("error_description").GetString());
        Assert.True(peer.Server.ValidateAccessToken(OAuthPeer.User, access)); // good until it expires, as with the real services
        peer.Server.RevokeAccessTokens(OAuthPeer.User);
        Assert.False(peer.Server.ValidateAccessToken(OAuthPeer.User, access));

        peer.Server.RefreshTokenLifetime = TimeSpan.FromDays(90);
        string aging = peer.Server.IssueRefreshToken(OAuthPeer.ClientId, OAuthPeer.User, OAuthPeer.Scope);
        peer.Clock.Advance(TimeSpan.FromDays(90));
        Assert.Equal("invalid_grant", (await peer.RefreshAsync(aging)).Json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_narrower_scope_may_be_asked_for_a_wider_one_is_invalid_scope()
    {
        await using var peer = OAuthPeer.Start();
        peer.Server.RotateRefreshTokens = false;
        string refresh = peer.Server.IssueRefreshToken(OAuthPeer.ClientId, OAuthPeer.User, OAuthPeer.Scope);
        (_, JsonElement json) = await peer.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "https://mail.google.com/"));
        Assert.Equal("https://mail.google.com/", json.GetProperty("scope").GetString());
        (HttpStatusCode status, json) = await peer.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "https://mail.google.com/ admin"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_scope", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_refresh_token_of_another_client_is_unknown()
    {
        await using var peer = OAuthPeer.Start();
        peer.Server.RegisterClient("other");
        string theirs = peer.Server.IssueRefreshToken("other", OAuthPeer.User, OAuthPeer.Scope);
        Assert.Equal("invalid_grant", (await peer.RefreshAsync(theirs)).Json.GetProperty("error").GetString());
        Assert.Equal("invalid_grant", (await peer.RefreshAsync("made-up")).Json.GetProperty("error").GetString());
        Assert.Equal("invalid_request", (await peer.TokenAsync(("grant_type", "refresh_token"))).Json.GetProperty("error").GetString());
    }
}
