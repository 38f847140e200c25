namespace Poplib.Fetch.OAuth;

/// <summary>
/// What a sign-in leaves behind for one account: the refresh token and how to use it (provider, client,
/// endpoint, scopes), and the current access token as a cache. Kept by <see cref="OAuth2TokenStore"/>.
/// <see cref="ToString"/> never shows a token.
/// </summary>
public sealed record OAuth2Grant
{
    /// <summary><c>microsoft</c>, <c>google</c> or <c>custom</c>.</summary>
    public required string Provider { get; init; }

    /// <summary>The application's client id.</summary>
    public required string ClientId { get; init; }

    /// <summary>
    /// The client secret, for clients that have one: Google's desktop clients, whose secret Google says
    /// is not confidential but must be sent. Kept with the refresh token, in the same private file.
    /// </summary>
    public string? ClientSecret { get; init; }

    /// <summary>Microsoft's tenant, when the provider is Microsoft.</summary>
    public string? Tenant { get; init; }

    /// <summary>Where the refresh token is exchanged.</summary>
    public required Uri TokenEndpoint { get; init; }

    /// <summary>The scopes granted (or asked for, when the server did not say).</summary>
    public required IReadOnlyList<string> Scopes { get; init; }

    /// <summary>The mailbox the sign-in was for, when known.</summary>
    public string? User { get; init; }

    /// <summary>The refresh token (RFC 6749 section 1.5): the long-lived secret.</summary>
    public required string RefreshToken { get; init; }

    /// <summary>The last access token, cached so that a new process does not refresh at once; null when none is cached.</summary>
    public string? AccessToken { get; init; }

    /// <summary>When <see cref="AccessToken"/> stops working, by the server's <c>expires_in</c>.</summary>
    public DateTimeOffset? AccessTokenExpires { get; init; }

    /// <summary>When the user signed in.</summary>
    public DateTimeOffset Obtained { get; init; }

    /// <summary>When the refresh token was last used (or replaced by a rotated one); null: never yet.</summary>
    public DateTimeOffset? Refreshed { get; init; }

    /// <summary>The provider, user and scopes; no token.</summary>
    public override string ToString() =>
        $"OAuth2Grant {{ Provider = {Provider}, ClientId = {ClientId}, ClientSecret = {(ClientSecret is null ? "none" : "****")}, User = {User}, Scopes = {string.Join(' ', Scopes)}, RefreshToken = ****, AccessToken = {(AccessToken is null ? "none" : "****")} }}";
}
