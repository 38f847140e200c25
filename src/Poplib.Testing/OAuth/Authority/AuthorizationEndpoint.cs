using System.Net;
using System.Text;
using Poplib.Testing.OAuth.Http;

namespace Poplib.Testing.OAuth.Authority;

/// <summary>
/// <c>GET /authorize</c> (RFC 6749 section 4.1.1) for a native app: a loopback redirect URI on any port
/// (RFC 8252 section 7.3), PKCE with S256 required (RFC 7636). There is no login page: the request is
/// approved at once as <see cref="OAuth2TestServer.SignedInUser"/> (or denied without one), so a test
/// plays the browser with one GET and reads the redirect's Location.
/// </summary>
internal sealed class AuthorizationEndpoint(OAuth2Authority authority, OAuth2TestServerOptions options)
{
    public HttpResponse Handle(Dictionary<string, string> query)
    {
        lock (authority.Gate)
        {
            // Section 4.1.2.1: with no trustworthy client or redirect URI, the error goes to the user, not to the redirect.
            if (!query.TryGetValue("client_id", out string? clientId) || authority.FindClient(clientId) is null)
                return HttpResponse.Html(400, "<html><body><h1>Unknown client</h1></body></html>");
            if (!query.TryGetValue("redirect_uri", out string? redirectUri) || !IsLoopbackRedirect(redirectUri))
                return HttpResponse.Html(400, "<html><body><h1>The redirect URI must be http on a loopback address (127.0.0.1, [::1] or localhost).</h1></body></html>");

            string? state = query.GetValueOrDefault("state");
            if (query.GetValueOrDefault("response_type") != "code")
                return Redirect(redirectUri, state, ("error", "unsupported_response_type"), ("error_description", "Only response_type=code is supported."));
            if (!query.TryGetValue("code_challenge", out string? challenge) || !Pkce.IsValidChallenge(challenge))
                return Redirect(redirectUri, state, ("error", "invalid_request"), ("error_description", "PKCE is required: code_challenge (S256, 43 characters)."));
            if (query.GetValueOrDefault("code_challenge_method") != "S256")
                return Redirect(redirectUri, state, ("error", "invalid_request"), ("error_description", "code_challenge_method must be S256."));
            if (authority.SignedInUser is not { } user)
                return Redirect(redirectUri, state, ("error", "access_denied"), ("error_description", "The user declined."));

            string scope = string.Join(' ', query.GetValueOrDefault("scope", "").Split(' ', StringSplitOptions.RemoveEmptyEntries));
            string code = OAuth2Authority.NewSecret(43);
            authority.AddCode(code, new AuthorizationCodeEntry(clientId, redirectUri, challenge, scope, user, authority.Now + options.AuthorizationCodeLifetime));
            return Redirect(redirectUri, state, ("code", code));
        }
    }

    private static bool IsLoopbackRedirect(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out Uri? uri)
        && uri.Scheme == Uri.UriSchemeHttp
        && uri.Fragment.Length == 0
        && uri.UserInfo.Length == 0
        && (uri.Host == "localhost" || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out IPAddress? address) && IPAddress.IsLoopback(address)));

    private static HttpResponse Redirect(string redirectUri, string? state, params (string Name, string Value)[] parameters)
    {
        var location = new StringBuilder(redirectUri);
        char separator = redirectUri.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        foreach ((string name, string value) in state is null ? parameters : [.. parameters, ("state", state)])
        {
            location.Append(separator).Append(name).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }

        return HttpResponse.Redirect(302, location.ToString());
    }
}
