using Poplib.Fetch.OAuth;

namespace Poplib.Cli.OAuth;

/// <summary>
/// An account's <c>"oauth2"</c> block in a fetch config, or <c>oauth login</c>'s options: which
/// provider, which client, and for <c>custom</c> the endpoints and scopes.
/// </summary>
internal sealed record OAuthSettings(string Provider, string ClientId)
{
    public string? Tenant { get; init; }

    /// <summary>The environment variable holding the client secret (Google's desktop clients), if any.</summary>
    public string? ClientSecretEnv { get; init; }

    public Uri? TokenEndpoint { get; init; }

    public Uri? AuthorizationEndpoint { get; init; }

    public Uri? DeviceAuthorizationEndpoint { get; init; }

    public IReadOnlyList<string>? Scopes { get; init; }

    public const string ProviderNames = "microsoft, google, custom";

    /// <summary>The provider's endpoints and scopes (a usage error for an unknown provider or a custom one without a token endpoint).</summary>
    public OAuth2Provider ToProvider()
    {
        try
        {
            return Provider.ToLowerInvariant() switch
            {
                "microsoft" => WithScopes(OAuth2Provider.Microsoft(Tenant)),
                "google" => WithScopes(OAuth2Provider.Google()),
                "custom" => OAuth2Provider.Custom(
                    TokenEndpoint ?? throw new CliException(ExitCodes.Usage, "a custom provider needs a token endpoint"),
                    Scopes ?? throw new CliException(ExitCodes.Usage, "a custom provider needs its scopes"),
                    DeviceAuthorizationEndpoint, AuthorizationEndpoint),
                _ => throw new CliException(ExitCodes.Usage, $"unknown OAuth provider '{Provider}' ({ProviderNames})"),
            };
        }
        catch (ArgumentException e)
        {
            throw new CliException(ExitCodes.Usage, e.Message, e);
        }
    }

    // A preset's scopes may be replaced (a narrower or a wider set), its endpoints not.
    private OAuth2Provider WithScopes(OAuth2Provider preset) =>
        Scopes is { Count: > 0 } scopes ? new OAuth2Provider(preset.Name, preset.TokenEndpoint, scopes)
        {
            DeviceAuthorizationEndpoint = preset.DeviceAuthorizationEndpoint,
            AuthorizationEndpoint = preset.AuthorizationEndpoint,
            AuthorizationParameters = preset.AuthorizationParameters,
            Pop3Host = preset.Pop3Host,
            Tenant = preset.Tenant,
        } : preset;

    /// <summary>The client secret from <see cref="ClientSecretEnv"/>, or null; a variable named but unset is an error.</summary>
    public string? ReadClientSecret() => ClientSecretEnv is null ? null
        : Environment.GetEnvironmentVariable(ClientSecretEnv) is { Length: > 0 } secret ? secret
        : throw new CliException(ExitCodes.Usage, $"the client secret variable {ClientSecretEnv} is not set");
}
