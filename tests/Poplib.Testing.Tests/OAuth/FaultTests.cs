using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Poplib.Testing.OAuth;

namespace Poplib.Testing.Tests.OAuth;

/// <summary>Each <see cref="OAuth2Fault"/> as a client sees it on the wire.</summary>
public class FaultTests
{
    private static async Task<(OAuthPeer Peer, string Refresh)> Peer(OAuth2Fault fault, int times = int.MaxValue)
    {
        var peer = OAuthPeer.Start();
        peer.Server.InjectFault(OAuth2Endpoint.Token, fault, times);
        return (peer, peer.Server.IssueRefreshToken(OAuthPeer.ClientId, OAuthPeer.User, OAuthPeer.Scope));
    }

    private static HttpRequestMessage Refresh(OAuthPeer peer, string refresh) => new(HttpMethod.Post, peer.Server.TokenEndpoint)
    {
        Content = new FormUrlEncodedContent([new("client_id", OAuthPeer.ClientId), new("grant_type", "refresh_token"), new("refresh_token", refresh)]),
    };

    [Fact]
    public async Task Delay_before_headers_holds_the_answer_back_and_still_rotates()
    {
        (OAuthPeer peer, string refresh) = await Peer(OAuth2Fault.DelayBeforeHeaders(TimeSpan.FromMilliseconds(400)));
        await using (peer)
        {
            var watch = Stopwatch.StartNew();
            Assert.Equal(HttpStatusCode.OK, (await peer.RefreshAsync(refresh)).Status);
            Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(350), watch.Elapsed.ToString());
            peer.Server.ClearFaults();
            Assert.Equal("invalid_grant", (await peer.RefreshAsync(refresh)).Json.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task A_trickled_body_arrives_whole_but_slowly()
    {
        (OAuthPeer peer, string refresh) = await Peer(OAuth2Fault.TrickleBody(TimeSpan.FromMilliseconds(1)));
        await using (peer)
        {
            using HttpResponseMessage response = await peer.Http.SendAsync(Refresh(peer, refresh), HttpCompletionOption.ResponseHeadersRead);
            Stream body = await response.Content.ReadAsStreamAsync();
            byte[] buffer = new byte[4096];
            int reads = 0, total = 0, read;
            while ((read = await body.ReadAsync(buffer.AsMemory(total))) > 0)
            {
                reads++;
                total += read;
            }

            Assert.True(reads > 10, $"{reads} reads");
            Assert.True(JsonDocument.Parse(buffer.AsMemory(0, total)).RootElement.TryGetProperty("access_token", out _));
        }
    }

    [Fact]
    public async Task Garbage_json_is_200_and_not_json_and_uses_nothing_up()
    {
        (OAuthPeer peer, string refresh) = await Peer(OAuth2Fault.GarbageJson(), times: 1);
        await using (peer)
        {
            using HttpResponseMessage response = await peer.Http.SendAsync(Refresh(peer, refresh));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
            string text = await response.Content.ReadAsStringAsync();
            Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(text));
            Assert.Equal(HttpStatusCode.OK, (await peer.RefreshAsync(refresh)).Status); // once only, and the token was not used
            Assert.Equal(2, peer.Server.RequestCount(OAuth2Endpoint.Token));
        }
    }

    [Fact]
    public async Task A_huge_body_announces_its_length_and_streams_it()
    {
        (OAuthPeer peer, string refresh) = await Peer(OAuth2Fault.HugeJsonBody(50L * 1024 * 1024));
        await using (peer)
        {
            using HttpResponseMessage response = await peer.Http.SendAsync(Refresh(peer, refresh), HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(50L * 1024 * 1024, response.Content.Headers.ContentLength);
            Stream body = await response.Content.ReadAsStreamAsync();
            byte[] start = new byte[1024 * 1024];
            await body.ReadExactlyAsync(start);
            Assert.StartsWith("{\"token_type\":\"Bearer\"", System.Text.Encoding.ASCII.GetString(start, 0, 64));
        }
    }

    [Fact]
    public async Task An_endless_body_has_no_length_and_no_end()
    {
        (OAuthPeer peer, string refresh) = await Peer(OAuth2Fault.HugeJsonBody(null));
        await using (peer)
        {
            using HttpResponseMessage response = await peer.Http.SendAsync(Refresh(peer, refresh), HttpCompletionOption.ResponseHeadersRead);
            Assert.Null(response.Content.Headers.ContentLength);
            Stream body = await response.Content.ReadAsStreamAsync();
            byte[] buffer = new byte[1024 * 1024];
            for (int i = 0; i < 8; i++)
                await body.ReadExactlyAsync(buffer);
        }
    }

    [Theory]
    [InlineData(302)]
    [InlineData(307)]
    public async Task A_redirect_points_at_another_host(int status)
    {
        (OAuthPeer peer, string refresh) = await Peer(OAuth2Fault.Redirect(new Uri("http://attacker.example/steal"), status));
        await using (peer)
        {
            using HttpResponseMessage response = await peer.Http.SendAsync(Refresh(peer, refresh));
            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal(new Uri("http://attacker.example/steal"), response.Headers.Location);
        }
    }

    [Fact]
    public async Task A_500_comes_with_html()
    {
        (OAuthPeer peer, string refresh) = await Peer(OAuth2Fault.ServerErrorHtml());
        await using (peer)
        {
            using HttpResponseMessage response = await peer.Http.SendAsync(Refresh(peer, refresh));
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        }
    }

    [Fact]
    public async Task A_connection_closed_mid_body_is_an_error_to_the_reader()
    {
        (OAuthPeer peer, string refresh) = await Peer(OAuth2Fault.CloseMidBody());
        await using (peer)
        {
            using HttpResponseMessage response = await peer.Http.SendAsync(Refresh(peer, refresh), HttpCompletionOption.ResponseHeadersRead);
            var error = await Assert.ThrowsAsync<HttpRequestException>(() => response.Content.ReadAsStringAsync());
            Assert.IsType<HttpIOException>(error.InnerException);
        }
    }

    [Fact]
    public async Task Never_responding_hangs_until_the_client_gives_up_and_disposal_ends_it()
    {
        (OAuthPeer peer, string refresh) = await Peer(OAuth2Fault.NeverRespond());
        await using (peer)
        {
            using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => peer.Http.SendAsync(Refresh(peer, refresh), giveUp.Token));
            Task hanging = peer.Http.SendAsync(Refresh(peer, refresh));
            await Task.Delay(100);
            await peer.Server.DisposeAsync();
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => hanging.WaitAsync(TimeSpan.FromSeconds(10)));
        }
    }

    [Fact]
    public async Task Faults_are_checked_when_injected()
    {
        await using var server = OAuth2TestServer.Start();
        Assert.Throws<ArgumentOutOfRangeException>(() => server.InjectFault(OAuth2Endpoint.Token, OAuth2Fault.Redirect(new Uri("http://x/"), 200)));
        Assert.Throws<ArgumentOutOfRangeException>(() => server.InjectFault(OAuth2Endpoint.Token, OAuth2Fault.DelayBeforeHeaders(TimeSpan.Zero)));
        Assert.Throws<ArgumentOutOfRangeException>(() => server.InjectFault((OAuth2Endpoint)9, OAuth2Fault.GarbageJson()));
    }
}
