using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Poplib.Fetch.Connection;
using Poplib.Fetch.OAuth;

namespace Poplib.Cli.Connection;

/// <summary>Opens a session as the settings say: connect, secure, and (when asked) log in.</summary>
internal static class SessionFactory
{
    public static Task<Pop3Client> OpenAsync(ConnectionSettings settings, bool login, CliConsole console, CancellationToken cancellationToken)
    {
        if (login && settings.UsesAccessToken && !settings.HasPasswordOption && settings.AccessTokens is null)
            return OpenWithStoredSignInAsync(settings, console, cancellationToken);
        // --auth xoauth2 --password-command: the command runs again if the server refuses its token.
        if (login && settings.UsesAccessToken && settings.AccessTokens is null && settings.PasswordCommand is { } command)
        {
            PasswordSource.RequireOne(settings.PasswordEnv, settings.PasswordFile, command);
            return OpenAsync(settings with { AccessTokens = new CommandOAuth2TokenSource(command) }, null, console, cancellationToken);
        }
        // Read the password before connecting: a prompt must not eat into the server's timeout.
        string? password = login ? PasswordSource.Read(settings.PasswordEnv, settings.PasswordFile, settings.PasswordCommand, console) : null;
        return OpenAsync(settings, password, console, cancellationToken);
    }

    // --auth xoauth2 with no --password-*: the sign-in 'poplib oauth login' stored for user@host.
    private static async Task<Pop3Client> OpenWithStoredSignInAsync(ConnectionSettings settings, CliConsole console, CancellationToken cancellationToken)
    {
        string user = settings.User ?? throw new CliException(ExitCodes.Usage, "no user: give --user NAME or a URL such as pops://alice@host");
        string account = OAuth.TokenStores.KeyFor(user, settings.Host);
        var store = OAuth.TokenStores.Open();
        if (store.Load(account) is null)
        {
            throw new CliException(ExitCodes.Authentication,
                $"no OAuth 2.0 sign-in for {account}: run 'poplib oauth login --provider microsoft|google --client-id ID --user {user} --host {settings.Host}', " +
                "or give the access token with --password-env, --password-file or --password-command");
        }

        using var tokens = OAuth.TokenStores.Source(store, account, $"run 'poplib oauth login --user {user} --host {settings.Host} …' again", timeout: settings.Timeout);
        return await OpenAsync(settings with { AccessTokens = tokens }, null, console, cancellationToken);
    }

    /// <summary>Opens a session and, when <paramref name="password"/> is given, logs in with it.</summary>
    public static async Task<Pop3Client> OpenAsync(ConnectionSettings settings, string? password, CliConsole console, CancellationToken cancellationToken)
    {
        bool login = password is not null || settings.AccessTokens is not null;
        var options = new Pop3ClientOptions
        {
            Timeout = settings.Timeout,
            AllowInsecureAuthentication = settings.AllowInsecureAuth,
            DebugLevel = settings.DebugLevel,
            DebugWriter = console.Error,
            SslOptions = TlsSettings(settings, console.Error),
            TrustedCertificates = settings.InsecureSkipVerify || settings.CaFile is null ? [] : Trusted(settings.CaFile),
            PinnedCertificates = [.. settings.Pins],
            Proxy = settings.Proxy,
        };

        if (login && settings.User is null)
            throw new CliException(ExitCodes.Usage, "no user: give --user NAME or a URL such as pop://alice@host");

        Pop3Client client = await ConnectAsync(settings, options, cancellationToken);
        try
        {
            if (settings.StartTls || (settings.OpportunisticStartTls && client.Capabilities.Stls))
            {
                try
                {
                    await client.StlsAsync(cancellationToken: cancellationToken);
                }
                catch (Pop3CommandException refused) when (!settings.StartTls)
                {
                    // Offered, then refused: never carry on in plain text as if nothing happened.
                    throw new CliException(ExitCodes.ServerError,
                        $"the server offered STLS but refused it ({refused.ResponseText}); poplib does not go on in plain text. To do so anyway: --no-starttls", refused);
                }
            }
            if (login)
            {
                try
                {
                    if (settings.AccessTokens is { } tokens)
                        await LoginMethods.LoginAsync(client, settings.Auth ?? "auto", settings.User!, tokens, cancellationToken);
                    else
                        await LoginAsync(client, settings.Auth ?? "auto", settings.User!, password!, cancellationToken);
                }
                catch (Pop3CommandException refused)
                {
                    bool temporary = refused.ResponseCode is Pop3ResponseCode.InUse or Pop3ResponseCode.LoginDelay or Pop3ResponseCode.SysTemp;
                    throw new CliException(temporary ? ExitCodes.TemporaryFailure : ExitCodes.Authentication,
                        $"login failed: {refused.ResponseText} ({ErrorReporter.Describe(refused.ResponseCode)})", refused);
                }
            }

            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Connects and reads the greeting; a failure names the server and, where the likely cause is the
    /// wrong kind of port (TLS from the first byte against a plain one, or the reverse), says so.
    /// </summary>
    private static async Task<Pop3Client> ConnectAsync(ConnectionSettings settings, Pop3ClientOptions options, CancellationToken cancellationToken)
    {
        string where = settings.Address;
        try
        {
            return settings.ImplicitTls
                ? await Pop3Client.ConnectSslAsync(settings.Host, settings.Port, options, cancellationToken)
                : await Pop3Client.ConnectAsync(settings.Host, settings.Port, options, cancellationToken);
        }
        catch (SocketException e)
        {
            throw new CliException(ExitCodes.Connection, $"cannot connect to {where}: {Lowercase(e.Message)}", e);
        }
        catch (AuthenticationException e) when (e is not Pop3CertificateException && !e.Message.Contains("certificate", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException(ExitCodes.Connection,
                $"TLS failed with {where}: the server did not answer in TLS ({e.Message}). If this is a plain POP3 port (110), use pop:// (without --ssl), with --starttls", e);
        }
        catch (TimeoutException e) when (!settings.ImplicitTls && settings.Proxy is null)
        {
            throw new CliException(ExitCodes.Connection,
                $"{where}: {e.Message} If this port expects TLS from the first byte (995), use pops:// or --ssl", e);
        }
        catch (Pop3ProtocolException e) when (!settings.ImplicitTls)
        {
            throw new CliException(ExitCodes.Protocol,
                $"{where} did not greet like a POP3 server: {e.Message} If this port expects TLS from the first byte (995), use pops:// or --ssl", e);
        }
    }

    /// <summary>"Connection refused", as the rest of a sentence.</summary>
    private static string Lowercase(string message) =>
        message.Length > 1 && char.IsUpper(message[0]) && !char.IsUpper(message[1]) ? char.ToLowerInvariant(message[0]) + message[1..] : message;

    private static Task<Pop3Response> LoginAsync(Pop3Client client, string method, string user, string password, CancellationToken cancellationToken) =>
        LoginMethods.IsKnown(method)
            ? LoginMethods.LoginAsync(client, method, user, password, cancellationToken)
            : throw new CliException(ExitCodes.Usage, $"unknown --auth method '{method}' ({LoginMethods.Names})");

    /// <summary>
    /// The --insecure-skip-verify override, the only TLS setting of the command line's own: the chain
    /// and the host name are not checked (pins, when given, still are, as curl's --pinnedpubkey with -k).
    /// </summary>
    private static SslClientAuthenticationOptions? TlsSettings(ConnectionSettings settings, TextWriter stderr)
    {
        if (!settings.InsecureSkipVerify)
            return null;
        stderr.WriteLine(settings.Pins.Count > 0
            ? "poplib: WARNING: --insecure-skip-verify: the server's certificate chain and host name are NOT checked, only --tls-fingerprint."
            : "poplib: WARNING: --insecure-skip-verify: the server's certificate is NOT checked. Anyone between you and the server can read and change everything, including your password.");
        // The user asked for exactly this, by name, and was warned above.
#pragma warning disable CA5359
        return new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true };
#pragma warning restore CA5359
    }

    /// <summary>The --ca-file certificates (PEM or DER), read by the library's loader; a file that holds none is a usage error naming it.</summary>
    private static X509Certificate2Collection Trusted(string file)
    {
        try
        {
            return CertificateFile.Load(file);
        }
        catch (FormatException e)
        {
            throw new CliException(ExitCodes.Usage, $"--ca-file {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"cannot read --ca-file {file}: {e.Message}", e);
        }
    }
}
