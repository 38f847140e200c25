using System.Net;
using System.Text.Json;
using Poplib.Testing.OAuth;
using Poplib.Testing.Tests.Infrastructure;

namespace Poplib.Testing.Tests.OAuth;

/// <summary>The two servers together: a token from each sign-in flow opens the POP3 mailbox until it expires or is revoked.</summary>
public class SignInToMailboxTests
{
    private static Pop3TestServer StartPop3(OAuthPeer peer)
    {
        Pop3TestServerOptions options = Pop3ServerProfiles.Gmail();
        options.AccessTokenValidator = peer.Server.ValidateAccessToken;
        var server = Pop3TestServer.Start(options);
        server.AddUser(OAuthPeer.User, "unused", Pop3Mailbox.FromMessages(TestServer.SampleMessages));
        return server;
    }

    private static async Task<Pop3Client> Connect(bool async, Pop3TestServer server) =>
        await TestServer.ConnectSsl(async, server, TestServer.ClientOptions(server, allowInsecure: false));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_device_flow_token_logs_in_until_it_expires_and_a_refreshed_one_then_does(bool async)
    {
        await using var peer = OAuthPeer.Start();
        peer.Server.SignedInUser = OAuthPeer.User;
        peer.Server.AutoApproveDeviceAfter = TimeSpan.Zero;
        await using Pop3TestServer pop = StartPop3(peer);

        (_, JsonElement device) = await peer.PostAsync(peer.Server.DeviceAuthorizationEndpoint, ("client_id", OAuthPeer.ClientId), ("scope", OAuthPeer.Scope));
        (HttpStatusCode status, JsonElement tokens) = await peer.TokenAsync(("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", device.GetProperty("device_code").GetString()!));
        Assert.Equal(HttpStatusCode.OK, status);
        var access = new OAuth2AccessToken(tokens.GetProperty("access_token").GetString()!);

        using (Pop3Client client = await Connect(async, pop))
        {
            await Both.Run(async, () => client.Login(OAuthPeer.User, access), () => client.LoginAsync(OAuthPeer.User, access));
            Assert.Equal(3, client.Stat().Count);
        }

        peer.Clock.Advance(TimeSpan.FromHours(1));
        using Pop3Client later = await Connect(async, pop);
        var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => later.Login(OAuthPeer.User, access), () => later.LoginAsync(OAuthPeer.User, access)));
        Assert.Contains("invalid_token", refused.Details);

        JsonElement refreshed = (await peer.RefreshAsync(tokens.GetProperty("refresh_token").GetString()!)).Json;
        var fresh = new OAuth2AccessToken(refreshed.GetProperty("access_token").GetString()!);
        await Both.Run(async, () => later.Login(OAuthPeer.User, fresh), () => later.LoginAsync(OAuthPeer.User, fresh));
        Assert.True(later.IsAuthenticated);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_authorization_code_token_logs_in_only_as_its_own_user(bool async)
    {
        await using var peer = OAuthPeer.Start();
        peer.Server.SignedInUser = OAuthPeer.User;
        await using Pop3TestServer pop = StartPop3(peer);
        pop.AddUser(TestServer.User, TestServer.Password, Pop3Mailbox.FromMessages([]));
        (string verifier, string challenge) = OAuthPeer.NewPkce();
        string code = OAuthPeer.Query(await peer.AuthorizeAsync(challenge))["code"];
        (_, JsonElement tokens) = await peer.TokenAsync(("grant_type", "authorization_code"), ("code", code), ("redirect_uri", OAuthPeer.RedirectUri), ("code_verifier", verifier));
        var access = new OAuth2AccessToken(tokens.GetProperty("access_token").GetString()!);

        using Pop3Client client = await Connect(async, pop);
        await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Login(TestServer.User, access), () => client.LoginAsync(TestServer.User, access)));
        await Both.Run(async, () => client.Login(OAuthPeer.User, access), () => client.LoginAsync(OAuthPeer.User, access));
        Assert.Equal(3, client.Stat().Count);
    }
}
