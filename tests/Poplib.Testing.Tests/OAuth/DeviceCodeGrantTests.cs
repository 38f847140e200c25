using System.Net;
using System.Text.Json;
using Poplib.Testing.OAuth;

namespace Poplib.Testing.Tests.OAuth;

public class DeviceCodeGrantTests
{
    private const string DeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

    private static async Task<(string DeviceCode, string UserCode, JsonElement Json)> Begin(OAuthPeer peer)
    {
        (HttpStatusCode status, JsonElement json) = await peer.PostAsync(peer.Server.DeviceAuthorizationEndpoint, ("client_id", OAuthPeer.ClientId), ("scope", OAuthPeer.Scope));
        Assert.Equal(HttpStatusCode.OK, status);
        return (json.GetProperty("device_code").GetString()!, json.GetProperty("user_code").GetString()!, json);
    }

    private static async Task<string> Poll(OAuthPeer peer, string deviceCode)
    {
        (HttpStatusCode status, JsonElement json) = await peer.TokenAsync(("grant_type", DeviceGrant), ("device_code", deviceCode));
        return status == HttpStatusCode.OK ? "tokens:" + json.GetProperty("access_token").GetString() : json.GetProperty("error").GetString()!;
    }

    [Fact]
    public async Task Pending_slow_down_then_approved_gives_tokens_once()
    {
        await using var peer = OAuthPeer.Start();
        (string deviceCode, string userCode, JsonElement json) = await Begin(peer);
        Assert.Matches("^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$", userCode);
        Assert.Equal(peer.Server.VerificationUri.AbsoluteUri, json.GetProperty("verification_uri").GetString());
        Assert.Equal(900, json.GetProperty("expires_in").GetInt32());
        Assert.Equal(5, json.GetProperty("interval").GetInt32());
        Assert.Equal(userCode, peer.Server.LastUserCode);

        Assert.Equal("authorization_pending", await Poll(peer, deviceCode));
        Assert.Equal("slow_down", await Poll(peer, deviceCode)); // polled at once: the interval grows to 10 s
        peer.Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("slow_down", await Poll(peer, deviceCode)); // 5 s is now too soon: 15 s
        peer.Clock.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal("authorization_pending", await Poll(peer, deviceCode));

        peer.Server.ApproveDeviceCode(userCode.ToLowerInvariant().Replace("-", "", StringComparison.Ordinal), OAuthPeer.User);
        string tokens = await Poll(peer, deviceCode);
        Assert.StartsWith("tokens:", tokens);
        Assert.True(peer.Server.ValidateAccessToken(OAuthPeer.User, tokens["tokens:".Length..]));
        Assert.Equal("invalid_grant", await Poll(peer, deviceCode));
        Assert.Equal(6, peer.Server.RequestCount(OAuth2Endpoint.Token));
        Assert.Equal(deviceCode, peer.Server.LastRequest(OAuth2Endpoint.Token)!["device_code"]);
    }

    [Fact]
    public async Task Denied_is_access_denied_and_late_is_expired_token()
    {
        await using var peer = OAuthPeer.Start();
        (string denied, string deniedUser, _) = await Begin(peer);
        peer.Server.DenyDeviceCode(deniedUser);
        Assert.Equal("access_denied", await Poll(peer, denied));

        (string late, _, _) = await Begin(peer);
        peer.Clock.Advance(TimeSpan.FromMinutes(15));
        Assert.Equal("expired_token", await Poll(peer, late));
        Assert.Equal("invalid_grant", await Poll(peer, "no-such-code"));
        Assert.Throws<ArgumentException>(() => peer.Server.ApproveDeviceCode("ZZZZ-ZZZZ", OAuthPeer.User));
    }

    [Fact]
    public async Task Auto_approval_comes_after_the_set_time_as_the_signed_in_user()
    {
        await using var peer = OAuthPeer.Start();
        peer.Server.SignedInUser = OAuthPeer.User;
        peer.Server.AutoApproveDeviceAfter = TimeSpan.FromSeconds(12);
        (string deviceCode, _, _) = await Begin(peer);
        Assert.Equal("authorization_pending", await Poll(peer, deviceCode));
        peer.Clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal("authorization_pending", await Poll(peer, deviceCode));
        peer.Clock.Advance(TimeSpan.FromSeconds(6));
        Assert.StartsWith("tokens:", await Poll(peer, deviceCode));
    }

    [Fact]
    public async Task Another_clients_device_code_is_unknown()
    {
        await using var peer = OAuthPeer.Start();
        peer.Server.RegisterClient("other");
        (string deviceCode, _, _) = await Begin(peer);
        (_, JsonElement json) = await peer.PostAsync(peer.Server.TokenEndpoint, ("client_id", "other"), ("grant_type", DeviceGrant), ("device_code", deviceCode));
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
    }
}
