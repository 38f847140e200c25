namespace Poplib.Fetch.OAuth;

/// <summary>How <see cref="RefreshingOAuth2TokenSource"/> talks to the token endpoint and when it refreshes.</summary>
public sealed class RefreshingOAuth2TokenSourceOptions
{
    /// <summary>The client secret, for clients that have one (Google's desktop clients); null: the grant's own, if any.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>
    /// How long before its <c>expires_in</c> an access token is replaced; default 2 minutes — a session
    /// started with a token about to expire would be refused midway through the login.
    /// </summary>
    public TimeSpan ExpiryMargin
    {
        get;
        set => field = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The margin cannot be negative.");
    } = TimeSpan.FromMinutes(2);

    /// <summary>Limits of the HTTP requests (timeout, answer size).</summary>
    public OAuth2HttpOptions Http { get; set; } = new();

    /// <summary>What to tell the user when only a new sign-in helps (the command to run); appended to the error's message.</summary>
    public string? SignInHint { get; set; }

    /// <summary>The clock (tests); default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
