using System.Text.Json;

namespace Poplib.Fetch.OAuth;

/// <summary>A successful token response (RFC 6749 section 5.1), checked.</summary>
internal sealed record OAuth2TokenResponse(string AccessToken, TimeSpan? ExpiresIn, string? RefreshToken, IReadOnlyList<string>? Scopes)
{
    // Longer than any provider's tokens (Microsoft's run to a few kilobytes), short of a memory problem.
    private const int MaxTokenLength = 64 * 1024;

    public static OAuth2TokenResponse From(JsonElement answer, Uri endpoint)
    {
        string host = OAuth2Http.Describe(endpoint.Host);
        string access = OAuth2Http.OptionalString(answer, "access_token") is { Length: > 0 } value
            ? value : throw new OAuth2Exception($"{host} answered without an access token");
        string? type = OAuth2Http.OptionalString(answer, "token_type");
        if (!string.Equals(type, "Bearer", StringComparison.OrdinalIgnoreCase))
            throw new OAuth2Exception($"{host} issued a token of type '{OAuth2Http.Describe(type ?? "")}', not Bearer");
        string? refresh = OAuth2Http.OptionalString(answer, "refresh_token");
        Check(access, "an access", host);
        if (refresh is not null)
            Check(refresh, "a refresh", host);
        long? expiresIn = OAuth2Http.OptionalNumber(answer, "expires_in");
        if (expiresIn is < 0 or > 366L * 24 * 3600)
            throw new OAuth2Exception($"{host} answered with an expires_in of {expiresIn} s");
        string? scope = OAuth2Http.OptionalString(answer, "scope");
        return new OAuth2TokenResponse(access, expiresIn is { } seconds ? TimeSpan.FromSeconds(seconds) : null, refresh,
            scope is null ? null : scope.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    // A token goes into a SASL line and a file: no control characters, no spaces, bounded length.
    private static void Check(string token, string what, string host)
    {
        if (token.Length > MaxTokenLength || token.Any(c => c <= ' ' || c == '\u007f'))
            throw new OAuth2Exception($"{host} issued {what} token that is over {MaxTokenLength} characters or holds spaces or control characters");
    }

    public override string ToString() => "OAuth2TokenResponse(****)";
}
