namespace Poplib;

/// <summary>
/// Gives OAuth 2.0 access tokens to <see cref="Pop3Client.Login(string, IOAuth2TokenSource)"/> and is
/// told when the server refused one, so that the next token is a fresh one. An access token lives about
/// an hour; a source that can mint new ones (a refresh token, a command) keeps a long-running program
/// logged in without asking the user again.
/// </summary>
/// <remarks>
/// Implementations must be safe to call from several sessions at once, and must never put a token in
/// a <see cref="object.ToString"/>, an exception message or a log.
/// </remarks>
public interface IOAuth2TokenSource
{
    /// <summary>A token that has not been refused, from a cache or newly obtained.</summary>
    OAuth2AccessToken GetAccessToken(CancellationToken cancellationToken = default);

    /// <inheritdoc cref="GetAccessToken"/>
    Task<OAuth2AccessToken> GetAccessTokenAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The server refused <paramref name="refused"/> (revoked, or expired earlier than it said): it is
    /// not handed out again. Returns whether the next call may give a different token — false for a
    /// fixed token, where trying again would only be refused again.
    /// </summary>
    bool Invalidate(OAuth2AccessToken refused);
}
