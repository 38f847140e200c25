using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Poplib.Testing.OAuth;

namespace Poplib.Testing.Tests.OAuth;

/// <summary>Client authentication, malformed requests and the HTTP limits of the token endpoint.</summary>
public class TokenEndpointRequestTests
{
    [Fact]
    public async Task Unknown_clients_and_wrong_secrets_are_401_invalid_client()
    {
        await using var peer = OAuthPeer.Start();
        peer.Server.RegisterClient("confidential", "s3cret");
        string refresh = peer.Server.IssueRefreshToken("confidential", OAuthPeer.User, OAuthPeer.Scope);

        (HttpStatusCode status, JsonElement json) = await peer.PostAsync(peer.Server.TokenEndpoint, ("client_id", "nope"), ("grant_type", "refresh_token"), ("refresh_token", refresh));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", json.GetProperty("error").GetString());
        (status, _) = await peer.PostAsync(peer.Server.TokenEndpoint, ("client_id", "confidential"), ("client_secret", "wrong"), ("grant_type", "refresh_token"), ("refresh_token", refresh));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        (status, _) = await peer.PostAsync(peer.Server.TokenEndpoint, ("client_id", "confidential"), ("grant_type", "refresh_token"), ("refresh_token", refresh));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        (status, _) = await peer.PostAsync(peer.Server.TokenEndpoint, ("client_id", OAuthPeer.ClientId), ("client_secret", "a public client has none"), ("grant_type", "refresh_token"), ("refresh_token", refresh));
        Assert.Equal(HttpStatusCode.Unauthorized, status);

        (status, json) = await peer.PostAsync(peer.Server.TokenEndpoint, ("client_id", "confidential"), ("client_secret", "s3cret"), ("grant_type", "refresh_token"), ("refresh_token", refresh));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(json.TryGetProperty("access_token", out _));
    }

    [Fact]
    public async Task Http_basic_client_authentication_works_and_two_methods_at_once_are_refused()
    {
        await using var peer = OAuthPeer.Start();
        peer.Server.RegisterClient("conf:dential", "s3 cr&t");
        peer.Server.RotateRefreshTokens = false;
        string refresh = peer.Server.IssueRefreshToken("conf:dential", OAuthPeer.User, OAuthPeer.Scope);

        async Task<HttpResponseMessage> Post(string user, string password, params (string, string)[] form)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, peer.Server.TokenEndpoint)
            {
                Content = new FormUrlEncodedContent([new("grant_type", "refresh_token"), new("refresh_token", refresh), .. form.Select(p => new KeyValuePair<string, string>(p.Item1, p.Item2))]),
            };
            // RFC 6749 section 2.3.1: each part form-urlencoded before base64.
            string credentials = Uri.EscapeDataString(user) + ":" + Uri.EscapeDataString(password);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
            return await peer.Http.SendAsync(request);
        }

        using (HttpResponseMessage ok = await Post("conf:dential", "s3 cr&t"))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using (HttpResponseMessage wrong = await Post("conf:dential", "nope"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Equal("Basic", wrong.Headers.WwwAuthenticate.Single().Scheme);
        }

        using HttpResponseMessage twice = await Post("conf:dential", "s3 cr&t", ("client_secret", "s3 cr&t"));
        Assert.Equal(HttpStatusCode.BadRequest, twice.StatusCode);
        Assert.Contains("invalid_request", await twice.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Grant_types_parameters_and_content_types_are_checked()
    {
        await using var peer = OAuthPeer.Start();
        Assert.Equal("unsupported_grant_type", (await peer.TokenAsync(("grant_type", "password"), ("username", "a"), ("password", "b"))).Json.GetProperty("error").GetString());
        Assert.Equal("invalid_request", (await peer.TokenAsync()).Json.GetProperty("error").GetString());

        using var duplicated = new StringContent("client_id=poplib-test-client&grant_type=refresh_token&grant_type=refresh_token", Encoding.ASCII, "application/x-www-form-urlencoded");
        using HttpResponseMessage dup = await peer.Http.PostAsync(peer.Server.TokenEndpoint, duplicated);
        Assert.Equal(HttpStatusCode.BadRequest, dup.StatusCode);
        Assert.Contains("invalid_request", await dup.Content.ReadAsStringAsync());

        using var json = new StringContent("""{"grant_type":"refresh_token"}""", Encoding.UTF8, "application/json");
        using HttpResponseMessage wrongType = await peer.Http.PostAsync(peer.Server.TokenEndpoint, json);
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);

        using HttpResponseMessage get = await peer.Http.GetAsync(peer.Server.TokenEndpoint);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        using HttpResponseMessage missing = await peer.Http.GetAsync(new Uri(peer.Server.BaseAddress, "nothing-here"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(5, peer.Server.RequestCount(OAuth2Endpoint.Token)); // the malformed ones and the GET counted too; the 404 not
        Assert.Equal("no-store", (await peer.Http.PostAsync(peer.Server.TokenEndpoint, new FormUrlEncodedContent([]))).Headers.CacheControl!.ToString());
    }

    [Fact]
    public async Task Oversized_heads_and_bodies_are_refused_without_being_read()
    {
        await using var peer = OAuthPeer.Start();
        using var big = new FormUrlEncodedContent([new("client_id", OAuthPeer.ClientId), new("padding", new string('x', 70 * 1024))]);
        using HttpResponseMessage body = await peer.Http.PostAsync(peer.Server.TokenEndpoint, big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, body.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get, peer.Server.AuthorizationEndpoint);
        request.Headers.Add("X-Padding", new string('y', 17 * 1024));
        using HttpResponseMessage head = await peer.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, head.StatusCode);
    }

    [Fact]
    public async Task A_request_that_never_ends_is_408_after_the_request_timeout()
    {
        await using var peer = OAuthPeer.Start(new OAuth2TestServerOptions { RequestTimeout = TimeSpan.FromMilliseconds(300) });
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, peer.Server.Port);
        NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync("POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nclient_id="u8.ToArray());
        using var reader = new StreamReader(stream);
        Assert.Equal("HTTP/1.1 408 Request Timeout", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData("POST /token HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "400")]
    [InlineData("POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "501")]
    [InlineData("GARBAGE\r\n\r\n", "400")]
    [InlineData("POST /token HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "400")]
    public async Task Malformed_and_smuggling_shaped_requests_are_refused(string request, string status)
    {
        await using var peer = OAuthPeer.Start();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, peer.Server.Port);
        NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream);
        Assert.StartsWith($"HTTP/1.1 {status} ", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Connections_past_the_limit_are_503_and_the_rest_are_served()
    {
        await using var peer = OAuthPeer.Start(new OAuth2TestServerOptions { MaxConnections = 1 });
        peer.Server.InjectFault(OAuth2Endpoint.Authorization, OAuth2Fault.NeverRespond());
        using var hanging = new CancellationTokenSource();
        Task first = peer.Http.GetAsync(peer.Server.AuthorizationEndpoint, hanging.Token);
        while (peer.Server.RequestCount(OAuth2Endpoint.Authorization) == 0)
            await Task.Delay(10);

        using (HttpResponseMessage refused = await peer.Http.PostAsync(peer.Server.TokenEndpoint, new FormUrlEncodedContent([])))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(0, peer.Server.RequestCount(OAuth2Endpoint.Token)); // refused unread

        await hanging.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        HttpStatusCode status = HttpStatusCode.ServiceUnavailable;
        for (int i = 0; i < 100 && status == HttpStatusCode.ServiceUnavailable; i++)
        {
            await Task.Delay(20); // the server notices the closed connection
            using HttpResponseMessage again = await peer.Http.PostAsync(peer.Server.TokenEndpoint, new FormUrlEncodedContent([]));
            status = again.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, status); // served: no client_id
    }

    [Fact]
    public void Options_and_hooks_are_checked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OAuth2TestServer.Start(new OAuth2TestServerOptions { RequestTimeout = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => OAuth2TestServer.Start(new OAuth2TestServerOptions { MaxRequestHeadBytes = 100 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => OAuth2TestServer.Start(new OAuth2TestServerOptions { MaxConnections = 0 }));
        Assert.Throws<ArgumentNullException>(() => OAuth2TestServer.Start(new OAuth2TestServerOptions { TimeProvider = null! }));
    }

    [Fact]
    public async Task Test_hooks_refuse_unknown_clients_and_users()
    {
        await using var peer = OAuthPeer.Start();
        Assert.Throws<ArgumentException>(() => peer.Server.IssueRefreshToken("nope", OAuthPeer.User, ""));
        Assert.Throws<ArgumentException>(() => peer.Server.IssueAccessToken(OAuthPeer.ClientId, "nobody", ""));
        Assert.Throws<ArgumentOutOfRangeException>(() => peer.Server.AccessTokenLength = 8);
        Assert.Throws<ArgumentOutOfRangeException>(() => peer.Server.AccessTokenLifetime = TimeSpan.Zero);
        Assert.Throws<ArgumentException>(() => peer.Server.RegisterClient(""));
    }
}
