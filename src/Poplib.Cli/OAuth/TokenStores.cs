using Poplib.Fetch.OAuth;

namespace Poplib.Cli.OAuth;

/// <summary>Where the command line keeps sign-ins, and the token sources it makes from them.</summary>
internal static class TokenStores
{
    /// <summary>Overrides the folder (<c>$XDG_STATE_HOME/poplib/oauth</c> by default), for every command.</summary>
    public const string DirectoryVariable = "POPLIB_OAUTH_DIR";

    /// <summary><c>--token-dir</c> if given, else <see cref="DirectoryVariable"/>, else the default folder.</summary>
    public static OAuth2TokenStore Open(string? option = null) =>
        new(option is not null ? Fetch.Config.FetchConfig.ExpandHome(option)
            : Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } variable ? variable
            : OAuth2TokenStore.DefaultDirectory);

    /// <summary>The account key of a sign-in made for a single session: <c>user@host</c>, as <c>fetch</c> names such accounts.</summary>
    public static string KeyFor(string user, string host) => $"{user}@{host.ToLowerInvariant()}";

    /// <summary>A source that refreshes the stored sign-in of <paramref name="account"/>; <paramref name="hint"/> says how to sign in again.</summary>
    public static RefreshingOAuth2TokenSource Source(OAuth2TokenStore store, string account, string hint, string? clientSecret = null, TimeSpan? timeout = null) =>
        new(store, account, new RefreshingOAuth2TokenSourceOptions
        {
            ClientSecret = clientSecret,
            SignInHint = hint,
            Http = new OAuth2HttpOptions { Timeout = timeout ?? TimeSpan.FromSeconds(30) },
        });
}
