using Poplib.Fetch.Delivery;

namespace Poplib.Fetch;

/// <summary>How the connection to the POP3 server is secured.</summary>
public enum FetchTls
{
    /// <summary>TLS from the first byte (port 995, <c>pops://</c>). The default.</summary>
    Implicit,

    /// <summary>Plain connect, then STLS (RFC 2595); a server that refuses STLS fails the run.</summary>
    StartTls,

    /// <summary>No TLS. Logging in then needs <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/>.</summary>
    None,
}

/// <summary>Opens a session to the server and logs in with the password given; see <see cref="FetchAccount.OpenSession"/>.</summary>
/// <param name="password">What <see cref="FetchAccount.Password"/> produced.</param>
/// <param name="cancellationToken">Cancels connecting and logging in.</param>
public delegate Task<Pop3Client> FetchSessionOpener(string password, CancellationToken cancellationToken);

/// <summary>
/// One mailbox to fetch: where from (<see cref="Host"/>, <see cref="Port"/>, <see cref="Tls"/>), as
/// whom (<see cref="User"/>, <see cref="Password"/>), where to (<see cref="Destination"/>), how
/// (<see cref="Policy"/>). The state knows the mailbox by <see cref="Key"/>, not by
/// <see cref="Name"/>, so renaming an account loses nothing.
/// </summary>
public sealed record FetchAccount
{
    /// <summary>Creates an account; <paramref name="name"/> defaults to <c>user@host</c>.</summary>
    public FetchAccount(string host, string user, Func<CancellationToken, ValueTask<string>> password, FetchDestination destination, string? name = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentException.ThrowIfNullOrWhiteSpace(user);
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(destination);
        Host = host;
        User = user;
        Password = password;
        Destination = destination;
        Name = name ?? $"{user}@{host}";
    }

    /// <summary>
    /// Creates an account that logs in with OAuth 2.0 access tokens from <paramref name="accessTokens"/>
    /// (<see cref="AccessTokens"/>); <paramref name="name"/> defaults to <c>user@host</c>.
    /// </summary>
    public FetchAccount(string host, string user, IOAuth2TokenSource accessTokens, FetchDestination destination, string? name = null)
        : this(host, user, NoPassword, destination, name)
    {
        ArgumentNullException.ThrowIfNull(accessTokens);
        AccessTokens = accessTokens;
        LoginMethod = "xoauth2";
    }

    private static ValueTask<string> NoPassword(CancellationToken cancellationToken) =>
        throw new InvalidOperationException("This account logs in with OAuth 2.0 access tokens, not a password.");

    /// <summary>
    /// Where OAuth 2.0 access tokens come from (a stored sign-in: <see cref="OAuth.RefreshingOAuth2TokenSource"/>);
    /// null (the default): the account logs in with <see cref="Password"/>. When set, <see cref="Password"/> is not
    /// called, <see cref="LoginMethod"/> picks the mechanism (<c>xoauth2</c> or <c>oauthbearer</c>; <c>auto</c>:
    /// OAUTHBEARER if offered, else XOAUTH2), and a refused token is replaced once with a fresh one
    /// (<see cref="Pop3Client.LoginAsync(string, IOAuth2TokenSource, string, CancellationToken)"/>).
    /// </summary>
    public IOAuth2TokenSource? AccessTokens { get; init; }

    /// <summary>What people call the account (the config's name, or <c>user@host</c>): used in results and messages only.</summary>
    public string Name { get; init; }

    /// <summary>The server's host name or address.</summary>
    public string Host { get; init; }

    /// <summary>The server's port; null (the default): 995 with <see cref="FetchTls.Implicit"/>, else 110.</summary>
    public int? Port { get; init; }

    /// <summary>How the connection is secured; default <see cref="FetchTls.Implicit"/>.</summary>
    public FetchTls Tls { get; init; } = FetchTls.Implicit;

    /// <summary>The login name.</summary>
    public string User { get; init; }

    /// <summary>
    /// Produces the password (or token), once per run, before connecting: from a secret store, a
    /// file, the environment. It is hidden from every program a run starts (a delivery command).
    /// </summary>
    public Func<CancellationToken, ValueTask<string>> Password { get; init; }

    /// <summary>The client's options (timeouts, TLS settings, logging); null: the defaults.</summary>
    public Pop3ClientOptions? ClientOptions { get; init; }

    /// <summary>
    /// How to log in: null or <c>auto</c> (the default) lets
    /// <see cref="Pop3Client.LoginAsync(string, string, CancellationToken)"/> choose the strongest method
    /// the server offers; or one by name: <c>user</c>, <c>apop</c>, <c>plain</c>, <c>login</c>,
    /// <c>cram-md5</c>, <c>scram-sha-1</c>, <c>scram-sha-256</c>, <c>xoauth2</c>, <c>oauthbearer</c> (the last
    /// two take an OAuth 2.0 access token as the password). Ignored when <see cref="OpenSession"/> is set.
    /// </summary>
    public string? LoginMethod
    {
        get;
        init => field = value is null || Connection.LoginMethods.IsKnown(value)
            ? value
            : throw new ArgumentException($"Unknown login method '{value}' ({Connection.LoginMethods.Names}).", nameof(value));
    }

    /// <summary>
    /// Advanced: opens the session and logs in yourself (a SASL mechanism of your choice; trusted roots and
    /// certificate pins need no opener: <see cref="Pop3ClientOptions.TrustedCertificates"/> and
    /// <see cref="Pop3ClientOptions.PinnedCertificates"/> in <see cref="ClientOptions"/>); null (the default): connect as <see cref="Host"/>, <see cref="Port"/>,
    /// <see cref="Tls"/> and <see cref="ClientOptions"/> say, then <see cref="Pop3Client.LoginAsync(string, string, CancellationToken)"/>.
    /// </summary>
    public FetchSessionOpener? OpenSession { get; init; }

    /// <summary>Where mail goes: <see cref="FetchDestination.Maildir"/>, <see cref="FetchDestination.Mbox"/>, <see cref="FetchDestination.Command"/>, <see cref="FetchDestination.Sink"/>, or your own.</summary>
    public FetchDestination Destination { get; init; }

    /// <summary>Keep or delete, limits, timeouts.</summary>
    public FetchPolicy Policy { get; init; } = new();

    /// <summary>
    /// How often a daemon (<see cref="Hosting.FetchDaemon"/>) fetches the account after a success; null: the daemon's
    /// <see cref="Hosting.FetchDaemonOptions.DefaultInterval"/>. A one-shot <see cref="Fetcher"/> ignores it.
    /// </summary>
    public TimeSpan? Interval { get; init => field = value is null || value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "An interval must be positive."); }

    /// <summary>The port used: <see cref="Port"/>, or the default for <see cref="Tls"/>.</summary>
    public int EffectivePort => Port ?? (Tls == FetchTls.Implicit ? Pop3ClientOptions.DefaultSslPort : Pop3ClientOptions.DefaultPort);

    /// <summary>The mailbox's identity in the state: user, host (in lower case) and port.</summary>
    public AccountKey Key => new(User, Host, EffectivePort);

    /// <summary>
    /// The environment variables the password may be in, hidden from every program a run starts
    /// (besides the password itself): set by hosts that read passwords from the environment.
    /// </summary>
    public IReadOnlyList<string> SecretVariables { get; init; } = [];
}
