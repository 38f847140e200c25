using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Poplib.Cli.Fetch;
using Poplib.Cli.Fetch.Config;
using Poplib.Cli.Output;
using Poplib.Fetch.OAuth;

namespace Poplib.Cli.OAuth;

/// <summary><c>poplib oauth login|status|logout</c>: the OAuth 2.0 sign-ins fetch and the mail commands log in with.</summary>
internal static class OAuthCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("oauth", "OAuth 2.0 sign-ins (Microsoft 365, Gmail): sign in once, then fetch and the mail commands refresh the access token themselves");
        command.Add(CreateLogin(console));
        command.Add(CreateStatus(console));
        command.Add(CreateLogout(console));
        return command;
    }

    private static Option<string?> TokenDir() => new("--token-dir")
    {
        Description = $"The folder the sign-ins are kept in (default: ${TokenStores.DirectoryVariable}, else $XDG_STATE_HOME/poplib/oauth)",
    };

    private static Command CreateLogin(CliConsole console)
    {
        var provider = new Option<string?>("--provider") { Description = $"Who signs you in: {OAuthSettings.ProviderNames} (with --config: the account's \"oauth2.provider\")" };
        var clientId = new Option<string?>("--client-id") { Description = "Your application's client id, registered with the provider (README: 'OAuth 2.0')" };
        var tenant = new Option<string?>("--tenant") { Description = "Microsoft: the tenant (common, organizations, consumers, a tenant id or domain; default common)" };
        var secretEnv = new Option<string?>("--client-secret-env") { Description = "Read the client secret from this environment variable (Google's desktop clients have one)" };
        var user = new Option<string?>("--user", "-u") { Description = "The mailbox (alice@contoso.com): a hint to the sign-in page, and with --host the account's name" };
        var host = new Option<string?>("--host", "-H") { Description = "The POP3 server the sign-in is for (default: the provider's: outlook.office365.com, pop.gmail.com)" };
        var config = new Option<string?>("--config") { Description = "Sign in an account of this fetch config (with --account): its \"oauth2\" block gives provider and client" };
        var account = new Option<string?>("--account") { Description = "With --config: the account to sign in" };
        var device = new Option<bool>("--device") { Description = "Sign in with a code typed on any device (the default for microsoft)" };
        var browser = new Option<bool>("--browser") { Description = "Sign in with a browser on this machine, redirected back to poplib (the default for google)" };
        var noOpen = new Option<bool>("--no-browser-open") { Description = "With --browser: print the address only, do not start a browser" };
        var tokenEndpoint = new Option<string?>("--token-endpoint") { Description = "custom: the token endpoint (https://…)" };
        var authorizationEndpoint = new Option<string?>("--authorization-endpoint") { Description = "custom: the authorization endpoint, for --browser" };
        var deviceEndpoint = new Option<string?>("--device-endpoint") { Description = "custom: the device authorization endpoint, for --device" };
        var scopes = new Option<string?>("--scopes") { Description = "The scopes, space-separated (required for custom; replaces a preset's)" };
        var tokenDir = TokenDir();
        var command = new Command("login", "Sign in and keep the refresh token for an account (mode 0600)")
        {
            provider, clientId, tenant, secretEnv, user, host, config, account, device, browser, noOpen, tokenEndpoint, authorizationEndpoint, deviceEndpoint, scopes, tokenDir,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                if (result.GetValue(device) && result.GetValue(browser))
                    throw new CliException(ExitCodes.Usage, "--device and --browser exclude each other");
                OAuthSettings settings;
                string key;
                string? mailbox = result.GetValue(user);
                if (result.GetValue(config) is { } configPath)
                {
                    string name = result.GetValue(account) ?? throw new CliException(ExitCodes.Usage, "--config needs --account NAME: the account to sign in");
                    AccountSettings found = FetchConfig.Load(configPath, console, 0).Accounts.FirstOrDefault(a => a.Name == name)
                        ?? throw new CliException(ExitCodes.Usage, $"{configPath} has no account named '{name}'");
                    settings = found.OAuth ?? throw new CliException(ExitCodes.Config, $"{name}: the account has no \"oauth2\" block (and \"auth\": \"xoauth2\") in {configPath}");
                    key = name;
                    mailbox ??= found.Connection.User;
                }
                else
                {
                    if (result.GetValue(account) is not null)
                        throw new CliException(ExitCodes.Usage, "--account names an account of a --config file");
                    settings = new OAuthSettings(
                        result.GetValue(provider) ?? throw new CliException(ExitCodes.Usage, $"give --provider ({OAuthSettings.ProviderNames}), or --config FILE --account NAME"),
                        result.GetValue(clientId) ?? throw new CliException(ExitCodes.Usage, "give --client-id: your application's id, registered with the provider"));
                    if (mailbox is null)
                        throw new CliException(ExitCodes.Usage, "give --user: the mailbox you sign in for (the account is named user@host)");
                    string server = result.GetValue(host) ?? settings.ToProvider().Pop3Host
                        ?? throw new CliException(ExitCodes.Usage, "give --host: the POP3 server the sign-in is for");
                    key = TokenStores.KeyFor(mailbox, server);
                }

                settings = settings with
                {
                    Tenant = result.GetValue(tenant) ?? settings.Tenant,
                    ClientSecretEnv = result.GetValue(secretEnv) ?? settings.ClientSecretEnv,
                    TokenEndpoint = Url(result.GetValue(tokenEndpoint), "--token-endpoint") ?? settings.TokenEndpoint,
                    AuthorizationEndpoint = Url(result.GetValue(authorizationEndpoint), "--authorization-endpoint") ?? settings.AuthorizationEndpoint,
                    DeviceAuthorizationEndpoint = Url(result.GetValue(deviceEndpoint), "--device-endpoint") ?? settings.DeviceAuthorizationEndpoint,
                    Scopes = result.GetValue(scopes)?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? settings.Scopes,
                };
                OAuth2Provider chosen = settings.ToProvider();
                bool useDevice = result.GetValue(device) || (!result.GetValue(browser) && chosen.DeviceAuthorizationEndpoint is not null);
                OAuth2TokenStore store = TokenStores.Open(result.GetValue(tokenDir));
                using var signIn = new OAuth2SignIn(chosen, settings.ClientId, new OAuth2SignInOptions { ClientSecret = settings.ReadClientSecret(), User = mailbox });
                OAuth2Grant grant = useDevice
                    ? await signIn.SignInWithDeviceCodeAsync(code => ShowCode(console, code), cancellationToken)
                    : await signIn.SignInWithBrowserAsync(url => OpenBrowser(console, url, !result.GetValue(noOpen)), cancellationToken);
                store.Save(key, grant);
                console.Out.WriteLine($"Signed in: {key} ({grant.Provider}; scopes {string.Join(' ', grant.Scopes)}). The refresh token is in {store.PathOf(key)} (mode 0600).");
                return ExitCodes.Ok;
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, console.Error, 0);
            }
        });
        return command;
    }

    private static Uri? Url(string? text, string option) =>
        text is null ? null : Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) ? uri : throw new CliException(ExitCodes.Usage, $"{option}: '{text}' is not a URL");

    private static void ShowCode(CliConsole console, OAuth2DeviceCode code)
    {
        console.Out.WriteLine($"To sign in, open {TerminalText.Safe(code.VerificationUri.AbsoluteUri)} and enter the code {TerminalText.Safe(code.UserCode)}");
        console.Out.WriteLine($"(the code works until {code.ExpiresAt.ToLocalTime().ToString("HH:mm", CultureInfo.InvariantCulture)}; poplib waits here).");
        console.Out.Flush();
    }

    private static void OpenBrowser(CliConsole console, Uri url, bool open)
    {
        console.Out.WriteLine("To sign in, open this address in a browser on this machine (poplib waits for the browser to come back):");
        console.Out.WriteLine(TerminalText.Safe(url.AbsoluteUri));
        console.Out.Flush();
        if (!open || OperatingSystem.IsWindows())
            return;
        try
        {
            // The URL is one argument, never a shell's: nothing in it can run as a command.
            var start = new ProcessStartInfo(OperatingSystem.IsMacOS() ? "open" : "xdg-open") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(url.AbsoluteUri);
            using Process? process = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No browser launcher: the address printed above is enough.
        }
    }

    private static Command CreateStatus(CliConsole console)
    {
        var json = new Option<bool>("--json") { Description = "Machine-readable JSON output (field names documented in docs/cli.md)" };
        var tokenDir = TokenDir();
        var command = new Command("status", "Show the accounts signed in: provider, user, scopes, when the access token expires, when the refresh token was obtained and last used (no secrets)")
        {
            json, tokenDir,
        };
        command.SetAction(result =>
        {
            try
            {
                IReadOnlyList<(string Account, OAuth2Grant Grant)> grants = TokenStores.Open(result.GetValue(tokenDir)).List();
                if (result.GetValue(json))
                {
                    JsonOutput.Write(console.Out, writer =>
                    {
                        writer.WriteStartArray();
                        foreach ((string name, OAuth2Grant grant) in grants)
                        {
                            writer.WriteStartObject();
                            writer.WriteString("account", name);
                            writer.WriteString("provider", grant.Provider);
                            writer.WriteString("clientId", grant.ClientId);
                            if (grant.Tenant is not null)
                                writer.WriteString("tenant", grant.Tenant);
                            if (grant.User is not null)
                                writer.WriteString("user", grant.User);
                            writer.WriteString("scopes", string.Join(' ', grant.Scopes));
                            if (grant.AccessTokenExpires is { } expires)
                                writer.WriteString("accessTokenExpires", expires);
                            writer.WriteString("obtained", grant.Obtained);
                            if (grant.Refreshed is { } refreshed)
                                writer.WriteString("refreshed", refreshed);
                            writer.WriteEndObject();
                        }

                        writer.WriteEndArray();
                    });
                    return ExitCodes.Ok;
                }

                if (grants.Count == 0)
                {
                    console.Out.WriteLine("No OAuth 2.0 sign-ins. Sign in with 'poplib oauth login'.");
                    return ExitCodes.Ok;
                }

                foreach ((string name, OAuth2Grant grant) in grants)
                {
                    string access = grant.AccessTokenExpires is { } expires
                        ? (expires > DateTimeOffset.UtcNow ? $"access token until {Time(expires)}" : $"access token expired {Time(expires)} (renewed at next use)")
                        : "no access token cached";
                    string used = grant.Refreshed is { } refreshed ? $", refresh token last used {Time(refreshed)}" : "";
                    console.Out.WriteLine(TerminalText.Safe(
                        $"{name}: {grant.Provider}{(grant.User is null ? "" : $", {grant.User}")}, scopes {string.Join(' ', grant.Scopes)}; {access}; signed in {Time(grant.Obtained)}{used}"));
                }

                return ExitCodes.Ok;
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, console.Error, 0);
            }
        });
        return command;
    }

    private static string Time(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static Command CreateLogout(CliConsole console)
    {
        var account = new Argument<string?>("account") { Description = "The account to forget (as 'poplib oauth status' names it)", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Forget every sign-in" };
        var tokenDir = TokenDir();
        var command = new Command("logout", "Forget a sign-in: delete its token file (the provider still lists the app until you remove it there)")
        {
            account, all, tokenDir,
        };
        command.SetAction(result =>
        {
            try
            {
                OAuth2TokenStore store = TokenStores.Open(result.GetValue(tokenDir));
                string? name = result.GetValue(account);
                if (result.GetValue(all) == (name is not null))
                    throw new CliException(ExitCodes.Usage, "give an ACCOUNT or --all");
                IEnumerable<string> names = name is null ? store.List().Select(g => g.Account) : [name];
                int forgotten = 0;
                foreach (string each in names.ToList())
                {
                    if (store.Delete(each))
                    {
                        forgotten++;
                        console.Out.WriteLine(TerminalText.Safe($"Forgot the sign-in of {each}."));
                    }
                    else
                    {
                        throw new CliException(ExitCodes.Usage, $"no sign-in for '{each}' (see 'poplib oauth status')");
                    }
                }

                if (forgotten == 0)
                    console.Out.WriteLine("No sign-ins to forget.");
                return ExitCodes.Ok;
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, console.Error, 0);
            }
        });
        return command;
    }
}
