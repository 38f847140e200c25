using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Poplib.Testing.OAuth;

namespace Poplib.Testing.Tests.OAuth;

/// <summary>An <see cref="OAuth2TestServer"/> on a fake clock with a client and a user, and a plain HttpClient to talk to it as an OAuth client would.</summary>
internal sealed class OAuthPeer : IAsyncDisposable
{
    public const string ClientId = "poplib-test-client";
    public const string User = "alice@example.org";
    public const string Scope = "https://mail.google.com/ offline_access";
    public const string RedirectUri = "http://127.0.0.1:53123/callback";

    private OAuthPeer(OAuth2TestServerOptions options)
    {
        options.TimeProvider = Clock;
        Server = OAuth2TestServer.Start(options);
        Server.RegisterClient(ClientId);
        Server.AddUser(User);
        Http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
    }

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

    public OAuth2TestServer Server { get; }

    public HttpClient Http { get; }

    public static OAuthPeer Start(OAuth2TestServerOptions? options = null) => new(options ?? new OAuth2TestServerOptions());

    public async Task<(HttpStatusCode Status, JsonElement Json)> PostAsync(Uri endpoint, params (string Name, string Value)[] form)
    {
        using var content = new FormUrlEncodedContent(form.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)));
        using HttpResponseMessage response = await Http.PostAsync(endpoint, content);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    public Task<(HttpStatusCode Status, JsonElement Json)> TokenAsync(params (string Name, string Value)[] form) =>
        PostAsync(Server.TokenEndpoint, [("client_id", ClientId), .. form]);

    public Task<(HttpStatusCode Status, JsonElement Json)> RefreshAsync(string refreshToken) =>
        TokenAsync(("grant_type", "refresh_token"), ("refresh_token", refreshToken));

    /// <summary>Plays the browser: GETs the authorization URL and returns the redirect's Location.</summary>
    public async Task<Uri> AuthorizeAsync(string challenge, string state = "xyz", string redirectUri = RedirectUri, string method = "S256")
    {
        string query = string.Join('&', new[]
        {
            ("response_type", "code"), ("client_id", ClientId), ("redirect_uri", redirectUri), ("scope", Scope),
            ("state", state), ("code_challenge", challenge), ("code_challenge_method", method), ("login_hint", User),
        }.Select(p => p.Item1 + "=" + Uri.EscapeDataString(p.Item2)));
        using HttpResponseMessage response = await Http.GetAsync(new Uri(Server.AuthorizationEndpoint + "?" + query));
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        return response.Headers.Location!;
    }

    public static Dictionary<string, string> Query(Uri uri) =>
        uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1]));

    public static (string Verifier, string Challenge) NewPkce()
    {
        string verifier = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
