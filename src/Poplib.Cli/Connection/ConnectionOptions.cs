using System.CommandLine;

namespace Poplib.Cli.Connection;

/// <summary>The options every mail command shares: where to connect, how to secure it, who logs in.</summary>
internal sealed class ConnectionOptions
{
    /// <summary>
    /// A POP URL. It may also be given bare, anywhere among the arguments ("poplib stat pops://bob@host"):
    /// <see cref="CliApp"/> turns a bare <c>pop://</c> or <c>pops://</c> token into this option.
    /// </summary>
    public Option<string?> Url { get; } = new("--url")
    {
        Description = "A POP URL instead of --host/--port/--user: pop://user[;AUTH=mech]@host[:port], or pops:// for TLS from the start (the --url may be left out)",
    };

    public Option<string?> Host { get; } = new("--host", "-H") { Description = "The server's host name or address" };

    public Option<int?> Port { get; } = new("--port", "-p") { Description = "The TCP port (default 110, or 995 with --ssl)" };

    public Option<bool> Ssl { get; } = new("--ssl") { Description = "TLS from the first byte (POP3S, port 995)" };

    public Option<bool> StartTls { get; } = new("--starttls") { Description = "Switch to TLS with STLS before logging in" };

    public Option<string?> User { get; } = new("--user", "-u") { Description = "The user name" };

    public Option<string?> PasswordEnv { get; } = new("--password-env") { Description = "Read the password from this environment variable" };

    public Option<string?> PasswordFile { get; } = new("--password-file") { Description = "Read the password from the first line of this file" };

    public Option<string?> PasswordCommand { get; } = new("--password-command")
    {
        Description = "Run this command (by /bin/sh) and use the first line it prints as the password, e.g. \"pass show mail/work\"; " +
            "with --auth xoauth2 or oauthbearer it prints the access token alone and runs again whenever a new token is needed (a refused one, each daemon run)",
    };

    public Option<bool> NoStartTls { get; } = new("--no-starttls") { Description = "Stay in plain text even when the server offers STLS (by default poplib switches to TLS whenever it is offered)" };

    public Option<string?> Auth { get; } = new("--auth")
    {
        Description = "The login method: auto (the strongest the server offers), user (USER/PASS), apop, or a SASL mechanism: plain, login, cram-md5, scram-sha-1, scram-sha-256, ntlm (user DOMAIN\\name), gssapi (a Kerberos ticket got with the password), " +
            "xoauth2 or oauthbearer (with a --password-* option that option gives the OAuth 2.0 access token, --password-command a fresh one whenever one is needed; without one, the sign-in 'poplib oauth login' stored for user@host is used and refreshed); without TLS each needs --allow-insecure-auth",
        DefaultValueFactory = _ => null,
    };

    public Option<string?> CaFile { get; } = new("--ca-file")
    {
        Description = "Trust the certificates in this file (PEM or DER: a self-signed server's, your own CA) besides the system's roots; the host name is still checked",
    };

    public Option<string[]> TlsFingerprint { get; } = new("--tls-fingerprint")
    {
        Description = "Also require the server's certificate to match this fingerprint (repeatable: any one matches): sha256:BASE64 of its public key, or sha256:HEX of the " +
            "whole certificate, as 'poplib capa --show-certificate' prints them. Checked in addition to the chain, never instead: pin a self-signed server with --ca-file too",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<bool> InsecureSkipVerify { get; } = new("--insecure-skip-verify") { Description = "Accept ANY server certificate (testing only: anyone in the path can read your password)" };

    public Option<bool> AllowInsecureAuth { get; } = new("--allow-insecure-auth")
    {
        Description = "Allow logging in over a connection that is not encrypted, by any method (an eavesdropper sees the password, or with APOP, CRAM-MD5 and SCRAM enough to crack it offline)",
    };

    public Option<string?> Proxy { get; } = new("--proxy")
    {
        Description = "Connect through a proxy, which also resolves the server's name: socks5://[user@]host[:port] (default port 1080), socks4a://[user@]host[:port], " +
            "http://[user@]host[:port] (HTTP CONNECT), or env (the URL in all_proxy/ALL_PROXY, password included, bypassed for hosts in no_proxy/NO_PROXY)",
    };

    public Option<string?> ProxyPasswordEnv { get; } = new("--proxy-password-env") { Description = "Read the proxy's password from this environment variable (a password in --proxy is refused)" };

    public Option<double> Timeout { get; } = new("--timeout") { Description = "Seconds to wait for the server at each step", DefaultValueFactory = _ => 60 };

    public Option<bool> Verbose { get; } = new("--verbose", "-v") { Description = "Show the protocol dialogue on standard error (passwords masked)" };

    public Option<bool> VeryVerbose { get; } = new("-vv") { Description = "Show every line received too, and stack traces on errors" };

    public Option<bool> Json { get; } = new("--json") { Description = "Machine-readable JSON output (field names documented in docs/cli.md)" };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Url, Host, Port, Ssl, StartTls, NoStartTls, User, PasswordEnv, PasswordFile, PasswordCommand, Auth, CaFile, TlsFingerprint, InsecureSkipVerify, AllowInsecureAuth, Proxy, ProxyPasswordEnv, Timeout, Verbose, VeryVerbose, Json })
            command.Add(option);
    }

    public int DebugLevel(ParseResult result) => result.GetValue(VeryVerbose) ? 2 : result.GetValue(Verbose) ? 1 : 0;

    /// <summary>Reads the settings, merging a POP URL with the explicit options (options win).</summary>
    public ConnectionSettings Read(ParseResult result)
    {
        PopUrl? url = result.GetValue(Url) is { } text ? PopUrl.Parse(text) : null;
        if (url is not null)
        {
            // Two answers to one question: refused rather than one of them silently ignored.
            if (result.GetValue(Host) is { } givenHost && !string.Equals(givenHost, url.Host, StringComparison.OrdinalIgnoreCase))
                throw new CliException(ExitCodes.Usage, $"--host {givenHost} contradicts the URL's host {url.Host}: give one of them");
            if (result.GetValue(Port) is { } givenPort && url.Port is { } urlPort && givenPort != urlPort)
                throw new CliException(ExitCodes.Usage, $"--port {givenPort} contradicts the URL's port {urlPort}: give one of them");
            if (result.GetValue(User) is { } user && url.User is { } urlUser && user != urlUser)
                throw new CliException(ExitCodes.Usage, $"--user {user} contradicts the URL's user {urlUser}: give one of them");
            if (result.GetValue(Ssl) && !url.ImplicitTls)
                throw new CliException(ExitCodes.Usage, "--ssl contradicts a pop:// URL: use pops:// for TLS from the first byte");
        }

        bool ssl = result.GetValue(Ssl) || (url?.ImplicitTls ?? false);
        string host = result.GetValue(Host) ?? url?.Host
            ?? throw new CliException(ExitCodes.Usage, "no server: give --host HOST or a URL such as pops://alice@pop.example.org");
        int port = result.GetValue(Port) ?? url?.Port ?? (ssl ? Pop3ClientOptions.DefaultSslPort : Pop3ClientOptions.DefaultPort);
        if (port is < 1 or > 65535)
            throw new CliException(ExitCodes.Usage, $"--port must be between 1 and 65535, not {port}");
        if (ssl && result.GetValue(StartTls))
            throw new CliException(ExitCodes.Usage, "--ssl and --starttls exclude each other");
        if (result.GetValue(NoStartTls) && (ssl || result.GetValue(StartTls)))
            throw new CliException(ExitCodes.Usage, ssl ? "--no-starttls and TLS from the first byte (--ssl, pops://) exclude each other" : "--starttls and --no-starttls exclude each other");
        double timeout = result.GetValue(Timeout);
        if (!(timeout > 0 && timeout <= 24 * 3600))
            throw new CliException(ExitCodes.Usage, "--timeout must be a number of seconds between 0 and 86400");

        return new ConnectionSettings(
            Host: host,
            Port: port,
            ImplicitTls: ssl,
            StartTls: result.GetValue(StartTls),
            User: result.GetValue(User) ?? url?.User,
            PasswordEnv: result.GetValue(PasswordEnv),
            PasswordFile: result.GetValue(PasswordFile),
            Auth: result.GetValue(Auth) ?? url?.Auth,
            CaFile: result.GetValue(CaFile),
            InsecureSkipVerify: result.GetValue(InsecureSkipVerify),
            AllowInsecureAuth: result.GetValue(AllowInsecureAuth),
            Timeout: TimeSpan.FromSeconds(timeout),
            DebugLevel: DebugLevel(result))
        {
            PasswordCommand = result.GetValue(PasswordCommand),
            Pins = Pins(result.GetValue(TlsFingerprint)),
            Proxy = ProxySetting.Read(result.GetValue(Proxy), result.GetValue(ProxyPasswordEnv), host),
            // Neither TLS option given: TLS all the same whenever the server offers STLS.
            OpportunisticStartTls = !ssl && !result.GetValue(StartTls) && !result.GetValue(NoStartTls),
        };
    }

    /// <summary>The --tls-fingerprint values, read now: a mistyped pin is a usage error before anything connects.</summary>
    internal static CertificatePin[] Pins(IEnumerable<string>? values, string where = "--tls-fingerprint")
    {
        var pins = new List<CertificatePin>();
        foreach (string value in values ?? [])
        {
            try
            {
                pins.Add(CertificatePin.Parse(value));
            }
            catch (FormatException e)
            {
                throw new CliException(ExitCodes.Usage, $"{where}: {e.Message}", e);
            }
        }

        return [.. pins];
    }
}

/// <summary>Everything needed to open a session, as read from the command line.</summary>
internal sealed record ConnectionSettings(
    string Host,
    int Port,
    bool ImplicitTls,
    bool StartTls,
    string? User,
    string? PasswordEnv,
    string? PasswordFile,
    string? Auth,
    string? CaFile,
    bool InsecureSkipVerify,
    bool AllowInsecureAuth,
    TimeSpan Timeout,
    int DebugLevel)
{
    /// <summary>Read the password from the first line this command prints.</summary>
    public string? PasswordCommand { get; init; }

    /// <summary>The server's certificate must match one of these (--tls-fingerprint), besides passing the chain check.</summary>
    public IReadOnlyList<CertificatePin> Pins { get; init; } = [];

    /// <summary>Log in with OAuth 2.0 access tokens from here (a stored sign-in) instead of a password; null: a password.</summary>
    public IOAuth2TokenSource? AccessTokens { get; init; }

    /// <summary>Whether the login method takes an OAuth 2.0 access token (xoauth2, oauthbearer).</summary>
    public bool UsesAccessToken => Auth?.ToUpperInvariant() is "XOAUTH2" or "OAUTHBEARER";

    /// <summary>Whether any --password-* option was given.</summary>
    public bool HasPasswordOption => PasswordEnv is not null || PasswordFile is not null || PasswordCommand is not null;

    /// <summary>The proxy to connect through (<c>--proxy</c>), or null.</summary>
    public Pop3Proxy? Proxy { get; init; }

    /// <summary>
    /// Switch to TLS with STLS whenever the server offers it (the command line's default), failing
    /// closed if it then fails. <see cref="StartTls"/> requires it; neither: plain text.
    /// </summary>
    public bool OpportunisticStartTls { get; init; }

    /// <summary>host:port, as error messages name the server ([host]:port for an IPv6 address).</summary>
    public string Address => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}
