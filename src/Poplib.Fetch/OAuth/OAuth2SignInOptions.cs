namespace Poplib.Fetch.OAuth;

/// <summary>Settings of <see cref="OAuth2SignIn"/>.</summary>
public sealed class OAuth2SignInOptions
{
    /// <summary>The client secret, for clients that have one (Google's desktop clients); null: none.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>The mailbox being signed in (a hint to the provider's page, and kept with the grant).</summary>
    public string? User { get; set; }

    /// <summary>How long the user has to finish in the browser (the authorization-code flow); default 5 minutes.</summary>
    public TimeSpan BrowserTimeout
    {
        get;
        set => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A timeout must be positive.");
    } = TimeSpan.FromMinutes(5);

    /// <summary>Limits of the HTTP requests.</summary>
    public OAuth2HttpOptions Http { get; set; } = new();

    /// <summary>The clock (tests); default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
