namespace Poplib;

/// <summary>
/// An OAuth 2.0 access token, for <see cref="Pop3Client.Login(string, OAuth2AccessToken)"/>: a distinct
/// type so that a token is never mistaken for a password.
/// </summary>
/// <param name="Value">The bearer token as the authorization server issued it.</param>
public readonly record struct OAuth2AccessToken(string Value)
{
    /// <summary>The token, masked: it must not end up in logs.</summary>
    public override string ToString() => "OAuth2AccessToken(****)";
}
