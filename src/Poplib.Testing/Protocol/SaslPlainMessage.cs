using System.Text;

namespace Poplib.Testing.Protocol;

/// <summary>The one message of SASL PLAIN (RFC 4616): <c>authzid NUL authcid NUL passwd</c>, base64-encoded in AUTH (RFC 5034).</summary>
internal static class SaslPlainMessage
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static bool TryParse(string base64, out string authorizationId, out string userName, out string password)
    {
        authorizationId = userName = password = "";
        byte[] bytes;
        try
        {
            // "=" is RFC 5034's empty response.
            bytes = base64 == "=" ? [] : Convert.FromBase64String(base64);
            string[] parts = StrictUtf8.GetString(bytes).Split('\0');
            if (parts.Length != 3 || parts[1].Length == 0)
                return false;
            (authorizationId, userName, password) = (parts[0], parts[1], parts[2]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
