using System.Text.Json;
using Poplib.Testing.OAuth.Http;

namespace Poplib.Testing.OAuth.Authority;

/// <summary>The JSON bodies the endpoints answer with, written without reflection (the package stays trimming- and AOT-clean).</summary>
internal static class OAuth2Json
{
    /// <summary>An error response (RFC 6749 section 5.2; RFC 8628 section 3.5 adds its codes): 401 for <c>invalid_client</c>, 400 otherwise.</summary>
    public static HttpResponse Error(string error, string description, bool basicChallenge = false)
    {
        int status = error == "invalid_client" ? 401 : 400;
        var response = HttpResponse.Json(status, Write(json =>
        {
            json.WriteString("error", error);
            json.WriteString("error_description", description);
        }));
        return basicChallenge ? response with { ExtraHeaders = [new("WWW-Authenticate", "Basic realm=\"Poplib.Testing\"")] } : response;
    }

    /// <summary>A successful token response (RFC 6749 section 5.1).</summary>
    public static HttpResponse Token(IssuedTokens tokens) => HttpResponse.Json(200, Write(json =>
    {
        json.WriteString("access_token", tokens.AccessToken);
        json.WriteString("token_type", "Bearer");
        json.WriteNumber("expires_in", (long)tokens.ExpiresIn.TotalSeconds);
        if (tokens.RefreshToken is not null)
            json.WriteString("refresh_token", tokens.RefreshToken);
        json.WriteString("scope", tokens.Scope);
    }));

    /// <summary>A device authorization response (RFC 8628 section 3.2).</summary>
    public static HttpResponse DeviceAuthorization(DeviceGrant grant, Uri verificationUri, TimeSpan expiresIn) => HttpResponse.Json(200, Write(json =>
    {
        json.WriteString("device_code", grant.DeviceCode);
        json.WriteString("user_code", grant.UserCode);
        json.WriteString("verification_uri", verificationUri.AbsoluteUri);
        json.WriteString("verification_uri_complete", verificationUri.AbsoluteUri + "?user_code=" + grant.UserCode);
        json.WriteNumber("expires_in", (long)expiresIn.TotalSeconds);
        json.WriteNumber("interval", (long)grant.Interval.TotalSeconds);
        json.WriteString("message", $"To sign in, open {verificationUri.AbsoluteUri} and enter the code {grant.UserCode}.");
    }));

    private static byte[] Write(Action<Utf8JsonWriter> members)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            members(json);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
