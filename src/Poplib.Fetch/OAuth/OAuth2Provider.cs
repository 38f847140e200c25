namespace Poplib.Fetch.OAuth;

/// <summary>
/// An authorization server's endpoints and the scopes POP3 needs there. The presets carry what
/// Microsoft's and Google's documentation say; <see cref="Custom"/> takes your own.
/// </summary>
public sealed record OAuth2Provider
{
    /// <summary>Describes a provider; <paramref name="tokenEndpoint"/> and one scope at least are required.</summary>
    public OAuth2Provider(string name, Uri tokenEndpoint, IReadOnlyList<string> scopes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(scopes);
        OAuth2Http.RequireSecureEndpoint(tokenEndpoint, "token endpoint");
        if (scopes.Count == 0 || scopes.Any(s => string.IsNullOrWhiteSpace(s) || s.Contains(' ', StringComparison.Ordinal)))
            throw new ArgumentException("Give one scope at least, each without spaces.", nameof(scopes));
        Name = name;
        TokenEndpoint = tokenEndpoint;
        Scopes = scopes;
    }

    /// <summary>Microsoft's tenants that any account may sign in through (<c>common</c>: work and personal accounts).</summary>
    public const string MicrosoftDefaultTenant = "common";

    /// <summary>The preset's name (<c>microsoft</c>, <c>google</c>) or <c>custom</c>.</summary>
    public string Name { get; }

    /// <summary>Where refresh tokens are exchanged for access tokens (RFC 6749 section 3.2).</summary>
    public Uri TokenEndpoint { get; }

    /// <summary>The scopes asked for.</summary>
    public IReadOnlyList<string> Scopes { get; }

    /// <summary>The device authorization endpoint (RFC 8628), when the provider allows the device flow for these scopes.</summary>
    public Uri? DeviceAuthorizationEndpoint { get; init => field = Checked(value, "device authorization endpoint"); }

    /// <summary>The authorization endpoint (RFC 6749 section 3.1), for the authorization-code flow with PKCE.</summary>
    public Uri? AuthorizationEndpoint { get; init => field = Checked(value, "authorization endpoint"); }

    /// <summary>Parameters the provider needs on the authorization request besides the standard ones (Google's <c>access_type=offline</c>).</summary>
    public IReadOnlyDictionary<string, string> AuthorizationParameters { get; init; } = new Dictionary<string, string>();

    /// <summary>The POP3 server of the provider, when it has one (for messages and defaults).</summary>
    public string? Pop3Host { get; init; }

    /// <summary>Microsoft's tenant this preset was made for, or null for other providers.</summary>
    public string? Tenant { get; init; }

    /// <summary>
    /// Microsoft Entra ID (Microsoft 365, Outlook.com): the v2.0 endpoints of <paramref name="tenant"/> —
    /// <c>common</c> (the default: work, school and personal accounts), <c>organizations</c>,
    /// <c>consumers</c>, or the tenant's id or domain; the scope <c>https://outlook.office.com/POP.AccessAsUser.All</c>
    /// and <c>offline_access</c> (without it there is no refresh token). The device flow is the way for a
    /// program without a browser of its own; POP3 at <c>outlook.office365.com:995</c>.
    /// </summary>
    public static OAuth2Provider Microsoft(string? tenant = null)
    {
        tenant = string.IsNullOrWhiteSpace(tenant) ? MicrosoftDefaultTenant : tenant;
        if (!tenant.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.'))
            throw new ArgumentException($"'{tenant}' is not a tenant: use common, organizations, consumers, a tenant id or a domain.", nameof(tenant));
        string root = $"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/";
        return new OAuth2Provider("microsoft", new Uri(root + "token"), ["https://outlook.office.com/POP.AccessAsUser.All", "offline_access"])
        {
            DeviceAuthorizationEndpoint = new Uri(root + "devicecode"),
            AuthorizationEndpoint = new Uri(root + "authorize"),
            Pop3Host = "outlook.office365.com",
            Tenant = tenant,
        };
    }

    /// <summary>
    /// Google (Gmail): the scope <c>https://mail.google.com/</c>, which Google's device flow does not
    /// allow, so sign-in is the authorization-code flow with PKCE and a loopback redirect, with
    /// <c>access_type=offline</c> and <c>prompt=consent</c> so that a refresh token comes back. A
    /// "Desktop app" client has a client secret, which Google does not treat as secret; it is sent
    /// with every token request. POP3 at <c>pop.gmail.com:995</c>.
    /// </summary>
    public static OAuth2Provider Google() =>
        new("google", new Uri("https://oauth2.googleapis.com/token"), ["https://mail.google.com/"])
        {
            AuthorizationEndpoint = new Uri("https://accounts.google.com/o/oauth2/v2/auth"),
            AuthorizationParameters = new Dictionary<string, string> { ["access_type"] = "offline", ["prompt"] = "consent" },
            Pop3Host = "pop.gmail.com",
        };

    /// <summary>Any other authorization server: its endpoints as given (HTTPS, or HTTP on loopback only).</summary>
    public static OAuth2Provider Custom(Uri tokenEndpoint, IReadOnlyList<string> scopes, Uri? deviceAuthorizationEndpoint = null, Uri? authorizationEndpoint = null) =>
        new("custom", tokenEndpoint, scopes) { DeviceAuthorizationEndpoint = deviceAuthorizationEndpoint, AuthorizationEndpoint = authorizationEndpoint };

    private static Uri? Checked(Uri? endpoint, string what)
    {
        if (endpoint is not null)
            OAuth2Http.RequireSecureEndpoint(endpoint, what);
        return endpoint;
    }
}
