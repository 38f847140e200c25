using Poplib.Cli.Connection;
using Poplib.Cli.Fetch.Config;
using Poplib.Fetch;
using Poplib.Fetch.OAuth;
using Poplib.Fetch.Platform;

namespace Poplib.Cli.Fetch;

/// <summary>One account as the command line or the config file gives it: the engine's account, and how the CLI connects and reads the password.</summary>
/// <param name="Name">What the user calls it (the config's name, or user@host).</param>
/// <param name="Connection">The server and login, with the CLI's TLS and authentication options.</param>
/// <param name="ReadPassword">Produces the password (environment, file, command, inline or prompt).</param>
/// <param name="Destination">Where mail goes.</param>
/// <param name="Policy">Keep or delete, limits.</param>
internal sealed record AccountSettings(string Name, ConnectionSettings Connection, Func<string> ReadPassword, FetchDestination Destination, FetchPolicy Policy)
{
    /// <summary>The environment variable the password is read from, if any: hidden from every program fetch starts.</summary>
    public string? PasswordVariable { get; init; } = Connection.PasswordEnv;

    /// <summary>How often <c>--daemon</c> fetches the account (the config's <c>interval</c>); null: <c>--interval</c>'s default.</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>The account's OAuth 2.0 sign-in settings (the config's <c>"oauth2"</c>), if it has them.</summary>
    public OAuth.OAuthSettings? OAuth { get; init; }

    /// <summary>
    /// Log in with the OAuth 2.0 sign-in stored under this key (the config account's name, or user@host for
    /// a single account given by URL), refreshed as needed; null: with the password.
    /// </summary>
    public string? SignInKey { get; init; }

    /// <summary>
    /// Log in with the access tokens this command prints (<c>"auth": "xoauth2"</c> with <c>password.command</c>,
    /// or <c>--password-command</c>), run for every login; null: a stored sign-in or the password.
    /// </summary>
    public SecretSource.Command? AccessTokenCommand { get; init; }

    /// <summary>The config file the account came from, for the sign-in hint (<c>poplib oauth login --config …</c>).</summary>
    public string? ConfigPath { get; init; }

    /// <summary>The mailbox's identity in the state (see <see cref="AccountKey"/>).</summary>
    public AccountKey Key => new(Connection.User!, Connection.Host, Connection.Port);

    /// <summary>
    /// The engine's account: the password given (read before any connection starts), and the CLI's
    /// own session opener, so that --auth, --ca-file, STLS and their messages are the other commands'.
    /// </summary>
    public FetchAccount ToFetchAccount(string password, CliConsole console)
    {
        if (SignInKey is not null)
            return ToOAuthAccount(SignInKey, console);
        if (AccessTokenCommand is { } command)
        {
            var printed = new CommandOAuth2TokenSource(command.CommandLine) { Hidden = new ChildEnvironment(command.SecretVariables, []) };
            return ToTokenAccount(printed, [], console);
        }
        return new(Connection.Host, Connection.User!, _ => ValueTask.FromResult(password), Destination, Name)
        {
            Port = Connection.Port,
            Tls = Connection.ImplicitTls ? FetchTls.Implicit : Connection.StartTls ? FetchTls.StartTls : FetchTls.None,
            Policy = Policy,
            OpenSession = (secret, cancellationToken) => SessionFactory.OpenAsync(Connection, secret, console, cancellationToken),
            SecretVariables = PasswordVariable is null ? [] : [PasswordVariable],
            Interval = Interval,
        };
    }

    // The sign-in stored under the account's name, refreshed as needed: one source per account for as
    // long as the engine's account lives (a daemon's whole life), so the access token is reused between runs.
    private FetchAccount ToOAuthAccount(string key, CliConsole console)
    {
        string hint = ConfigPath is null
            ? $"run 'poplib oauth login --user {Connection.User} --host {Connection.Host} …' again"
            : $"run 'poplib oauth login --config {ConfigPath} --account {Name}' again";
        var tokens = Cli.OAuth.TokenStores.Source(Cli.OAuth.TokenStores.Open(), key, hint, OAuth?.ReadClientSecret(), Connection.Timeout);
        return ToTokenAccount(tokens, OAuth?.ClientSecretEnv is { } variable ? [variable] : [], console);
    }

    // An account that logs in with access tokens from tokens, whatever they come from.
    private FetchAccount ToTokenAccount(IOAuth2TokenSource tokens, IReadOnlyList<string> secretVariables, CliConsole console)
    {
        ConnectionSettings connection = Connection with { AccessTokens = tokens };
        return new(Connection.Host, Connection.User!, tokens, Destination, Name)
        {
            Port = Connection.Port,
            Tls = Connection.ImplicitTls ? FetchTls.Implicit : Connection.StartTls ? FetchTls.StartTls : FetchTls.None,
            LoginMethod = Connection.Auth,
            Policy = Policy,
            OpenSession = (_, cancellationToken) => SessionFactory.OpenAsync(connection, null, console, cancellationToken),
            SecretVariables = secretVariables,
            Interval = Interval,
        };
    }
}
