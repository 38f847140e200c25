namespace Poplib;

/// <summary>
/// One token and nothing more: for a program that obtains its tokens elsewhere. A refused token is
/// not retried (there is no other to try).
/// </summary>
public sealed class StaticOAuth2TokenSource : IOAuth2TokenSource
{
    private readonly OAuth2AccessToken _token;

    /// <param name="token">The access token; not empty.</param>
    public StaticOAuth2TokenSource(OAuth2AccessToken token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token.Value, nameof(token));
        _token = token;
    }

    /// <inheritdoc/>
    public OAuth2AccessToken GetAccessToken(CancellationToken cancellationToken = default) => _token;

    /// <inheritdoc/>
    public Task<OAuth2AccessToken> GetAccessTokenAsync(CancellationToken cancellationToken = default) => Task.FromResult(_token);

    /// <inheritdoc/>
    public bool Invalidate(OAuth2AccessToken refused) => false;

    /// <summary>Never shows the token.</summary>
    public override string ToString() => "StaticOAuth2TokenSource(****)";
}
