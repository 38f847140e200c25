namespace Poplib.Testing.OAuth.Authority;

/// <summary>A registered client: public (no secret, as native apps are) or confidential.</summary>
internal sealed record RegisteredClient(string Id, string? Secret);

/// <summary>What a token response carries.</summary>
internal sealed record IssuedTokens(string AccessToken, TimeSpan ExpiresIn, string? RefreshToken, string Scope);

/// <summary>
/// One line of descent of refresh tokens (RFC 9700 section 4.14.2): every token rotated from the one a
/// sign-in issued shares it, so that a replayed, rotated-away token can revoke them all.
/// </summary>
internal sealed class TokenFamily(string clientId, string user, string scope)
{
    public string ClientId { get; } = clientId;

    public string User { get; } = user;

    public string Scope { get; } = scope;

    public bool Revoked { get; set; }
}

internal sealed class RefreshTokenEntry(TokenFamily family, DateTimeOffset issuedAt)
{
    public TokenFamily Family { get; } = family;

    public DateTimeOffset IssuedAt { get; } = issuedAt;

    /// <summary>Rotated away: presenting it again is a replay.</summary>
    public bool Used { get; set; }
}

internal sealed class AccessTokenEntry(TokenFamily family, string scope, DateTimeOffset expiresAt)
{
    public TokenFamily Family { get; } = family;

    public string Scope { get; } = scope;

    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    public bool Revoked { get; set; }
}

/// <summary>An authorization code waiting for its exchange, bound to the client, redirect URI and PKCE challenge it was issued for.</summary>
internal sealed class AuthorizationCodeEntry(string clientId, string redirectUri, string codeChallenge, string scope, string user, DateTimeOffset expiresAt)
{
    public string ClientId { get; } = clientId;

    public string RedirectUri { get; } = redirectUri;

    public string CodeChallenge { get; } = codeChallenge;

    public string Scope { get; } = scope;

    public string User { get; } = user;

    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    /// <summary>Presented once already: a code is good for one exchange attempt.</summary>
    public bool Used { get; set; }

    /// <summary>The tokens its exchange issued: revoked if the code comes back (RFC 6749 section 4.1.2).</summary>
    public TokenFamily? IssuedFamily { get; set; }
}

/// <summary>A device authorization (RFC 8628) from its request to its one successful poll.</summary>
internal sealed class DeviceGrant(string deviceCode, string userCode, string clientId, string scope, DateTimeOffset createdAt, DateTimeOffset expiresAt, TimeSpan interval)
{
    public string DeviceCode { get; } = deviceCode;

    public string UserCode { get; } = userCode;

    public string ClientId { get; } = clientId;

    public string Scope { get; } = scope;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    /// <summary>Grows by 5 seconds at each <c>slow_down</c> (RFC 8628 section 3.5).</summary>
    public TimeSpan Interval { get; set; } = interval;

    public DateTimeOffset? LastPoll { get; set; }

    public string? ApprovedUser { get; set; }

    public bool Denied { get; set; }

    public bool Consumed { get; set; }
}
