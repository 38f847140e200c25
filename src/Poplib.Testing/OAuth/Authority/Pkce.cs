using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Poplib.Testing.OAuth.Authority;

/// <summary>Proof Key for Code Exchange (RFC 7636), S256 only: <c>plain</c> defeats its purpose and is refused.</summary>
internal static class Pkce
{
    /// <summary>A verifier is 43 to 128 unreserved characters (section 4.1); an S256 challenge is a base64url SHA-256, 43 characters.</summary>
    public static bool IsValidVerifier(string verifier) =>
        verifier.Length is >= 43 and <= 128 && verifier.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~');

    public static bool IsValidChallenge(string challenge) =>
        challenge.Length == 43 && challenge.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>Section 4.6: BASE64URL(SHA256(ASCII(code_verifier))) must equal the challenge.</summary>
    public static bool Verify(string verifier, string challenge)
    {
        if (!IsValidVerifier(verifier))
            return false;
        byte[] computed = Encoding.ASCII.GetBytes(Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
        return CryptographicOperations.FixedTimeEquals(computed, Encoding.ASCII.GetBytes(challenge));
    }
}
