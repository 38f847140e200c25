using System.Security.Cryptography;
using System.Text;

namespace Poplib.Fetch.OAuth;

/// <summary>RFC 7636's proof key (S256) and the request's <c>state</c>, each from 32 random bytes.</summary>
internal sealed record Pkce(string Verifier, string Challenge, string State)
{
    public static Pkce Create()
    {
        string verifier = Base64Url(RandomNumberGenerator.GetBytes(32)); // 43 characters, as section 4.1 asks
        return new Pkce(verifier, Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))), Base64Url(RandomNumberGenerator.GetBytes(32)));
    }

    internal static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public override string ToString() => "Pkce(****)";
}
