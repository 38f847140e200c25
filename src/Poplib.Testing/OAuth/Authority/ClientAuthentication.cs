using System.Security.Cryptography;
using System.Text;
using Poplib.Testing.OAuth.Http;

namespace Poplib.Testing.OAuth.Authority;

/// <summary>
/// Client authentication at the token and device authorization endpoints (RFC 6749 section 2.3.1):
/// <c>client_id</c> in the body (a public client, as native apps are) plus <c>client_secret</c> in the
/// body or HTTP Basic for a confidential one — one method per request, never two.
/// </summary>
internal static class ClientAuthentication
{
    /// <summary>The client, or the error response to send instead.</summary>
    public static (RegisteredClient? Client, HttpResponse? Error) Authenticate(OAuth2Authority authority, HttpRequest request, Dictionary<string, string> form)
    {
        string? basicId = null, basicSecret = null;
        bool usedBasic = request.Header("authorization") is { } authorization;
        if (usedBasic)
        {
            if (!TryParseBasic(request.Header("authorization")!, out basicId, out basicSecret))
                return (null, OAuth2Json.Error("invalid_client", "The Authorization header is not HTTP Basic client authentication.", basicChallenge: true));
            if (form.ContainsKey("client_secret"))
                return (null, OAuth2Json.Error("invalid_request", "The client authenticated twice: HTTP Basic and client_secret."));
            if (form.TryGetValue("client_id", out string? bodyId) && bodyId != basicId)
                return (null, OAuth2Json.Error("invalid_request", "client_id differs from the HTTP Basic user."));
        }

        string? id = basicId ?? form.GetValueOrDefault("client_id");
        string? secret = basicSecret ?? form.GetValueOrDefault("client_secret");
        if (string.IsNullOrEmpty(id))
            return (null, OAuth2Json.Error("invalid_client", "client_id is missing.", usedBasic));
        if (authority.FindClient(id) is not { } client)
            return (null, OAuth2Json.Error("invalid_client", "Unknown client.", usedBasic));

        if (client.Secret is null)
        {
            // As Microsoft's public clients: a secret where none exists is a misconfigured app.
            return secret is null
                ? (client, null)
                : (null, OAuth2Json.Error("invalid_client", "The client is public: no client_secret is expected.", usedBasic));
        }

        bool matches = secret is not null
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(client.Secret));
        return matches ? (client, null) : (null, OAuth2Json.Error("invalid_client", "Client authentication failed.", usedBasic));
    }

    // RFC 6749 section 2.3.1: Basic with the id and secret form-urlencoded before base64.
    private static bool TryParseBasic(string header, out string? id, out string? secret)
    {
        id = secret = null;
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            return false;
        try
        {
            string decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
            int colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
                return false;
            id = Uri.UnescapeDataString(decoded[..colon].Replace('+', ' '));
            secret = Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' '));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
