using System.Text;

namespace Poplib.Testing.Protocol;

/// <summary>
/// The client's one message of XOAUTH2 (<c>user=U^Aauth=Bearer T^A^A</c>) or OAUTHBEARER (RFC 7628:
/// a GS2 header <c>n,a=U,</c>, then <c>^A</c>-separated <c>key=value</c> pairs and <c>^A^A</c>),
/// base64-encoded in AUTH (RFC 5034). Only what the server needs is kept: the user and the token.
/// </summary>
internal static class OAuthSaslMessage
{
    private const char Separator = '\u0001';
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static bool TryParse(string mechanism, string base64, out string userName, out string accessToken)
    {
        userName = accessToken = "";
        string text;
        try
        {
            text = StrictUtf8.GetString(Convert.FromBase64String(base64));
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            return false;
        }

        if (!text.EndsWith("\u0001\u0001", StringComparison.Ordinal))
            return false;
        string[] parts = text[..^2].Split(Separator);
        int pairsFrom = 0;
        string? user = null;
        if (mechanism == "OAUTHBEARER")
        {
            // RFC 7628 section 3.1: "n" or "y" (no channel binding: "p=" is not allowed), then a=authzid.
            if (!TryParseGs2Header(parts[0], out user))
                return false;
            pairsFrom = 1;
        }

        string? token = null;
        for (int i = pairsFrom; i < parts.Length; i++)
        {
            int equals = parts[i].IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                return false;
            string key = parts[i][..equals], value = parts[i][(equals + 1)..];
            if (key == "user" && mechanism == "XOAUTH2")
                user = value;
            else if (key == "auth")
                token = value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value["Bearer ".Length..] : null;
        }

        if (string.IsNullOrEmpty(user) || string.IsNullOrEmpty(token))
            return false;
        (userName, accessToken) = (user, token);
        return true;
    }

    private static bool TryParseGs2Header(string header, out string? authorizationId)
    {
        authorizationId = null;
        string[] fields = header.Split(',');
        if (fields is not [("n" or "y"), string authzid, ""])
            return false;
        if (!authzid.StartsWith("a=", StringComparison.Ordinal))
            return false;
        // RFC 5801: "," and "=" are escaped as "=2C" and "=3D"; any other "=" is malformed.
        string escaped = authzid[2..];
        string unescaped = escaped.Replace("=2C", ",", StringComparison.Ordinal).Replace("=3D", "=", StringComparison.Ordinal);
        if (escaped.Replace("=2C", "", StringComparison.Ordinal).Replace("=3D", "", StringComparison.Ordinal).Contains('=', StringComparison.Ordinal))
            return false;
        authorizationId = unescaped;
        return true;
    }

    /// <summary>The error challenge of a refused token: Google's XOAUTH2 form, or RFC 7628 section 3.2.2's.</summary>
    public static string ErrorJson(string mechanism, string scope) => mechanism == "XOAUTH2"
        ? $$"""{"status":"401","schemes":"bearer","scope":"{{JsonText(scope)}}"}"""
        : $$"""{"status":"invalid_token","scope":"{{JsonText(scope)}}"}""";

    /// <summary>What the client must answer the error challenge with: an empty line (XOAUTH2) or %x01 (RFC 7628 section 3.2.3).</summary>
    public static bool IsErrorAcknowledgement(string mechanism, string response) =>
        mechanism == "XOAUTH2" ? response.Length == 0 || response == "=" : response == "AQ==";

    private static string JsonText(string value) => System.Text.Json.JsonEncodedText.Encode(value).ToString();
}
