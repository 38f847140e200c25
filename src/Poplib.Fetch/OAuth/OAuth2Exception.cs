namespace Poplib.Fetch.OAuth;

/// <summary>
/// The authorization server refused, or answered in a way that cannot be trusted; or a token command
/// (<see cref="CommandOAuth2TokenSource"/>) failed. <see cref="Error"/>
/// holds its error code (RFC 6749 section 5.2) when it gave one. The message never holds a token or a
/// client secret; the server's own words in it are escaped.
/// </summary>
public sealed class OAuth2Exception : Exception
{
    /// <summary>Creates the exception.</summary>
    public OAuth2Exception(string message, string? error = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
    }

    /// <summary>The server's error code (<c>invalid_grant</c>, <c>invalid_client</c>, …), or null when it sent none.</summary>
    public string? Error { get; }

    /// <summary>
    /// Whether only signing in again helps, retrying never does: the sign-in is no longer valid
    /// (<c>invalid_grant</c>: the refresh token expired or was revoked, the password changed) or there is none.
    /// </summary>
    public bool SignInRequired => Error == "invalid_grant" || SignInMissing;

    /// <summary>There is no sign-in at all for the account (no grant stored).</summary>
    internal bool SignInMissing { get; init; }
}
