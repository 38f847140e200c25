using System.Net;

namespace Poplib.Cli.Connection;

/// <summary>
/// <c>--proxy URL|env</c> and <c>--proxy-password-env VAR</c>: the proxy to connect through, or null.
/// A password in a URL given on the command line is refused, as passwords are everywhere in this
/// command: every user of the machine can read a command line (ps). The password comes from an
/// environment variable instead; or the whole URL does, from <c>all_proxy</c>/<c>ALL_PROXY</c> with
/// <c>--proxy env</c> (as curl reads them, <c>no_proxy</c>/<c>NO_PROXY</c> included) — only when asked.
/// </summary>
internal static class ProxySetting
{
    public static Pop3Proxy? Read(string? given, string? passwordEnv, string serverHost)
    {
        if (given is null)
        {
            return passwordEnv is null ? null
                : throw new CliException(ExitCodes.Usage, "--proxy-password-env needs --proxy");
        }

        bool fromEnvironment = given == "env";
        string where = fromEnvironment ? "all_proxy" : "--proxy";
        string text = given;
        if (fromEnvironment)
        {
            (where, text) = Variable("all_proxy") ?? Variable("ALL_PROXY")
                ?? throw new CliException(ExitCodes.Usage, "--proxy env: neither all_proxy nor ALL_PROXY is set");
            if ((Variable("no_proxy") ?? Variable("NO_PROXY")) is { } noProxy && Bypasses(noProxy.Value, serverHost))
                return null;
        }

        // The text itself is never quoted: it may hold a password.
        if (!text.Contains("://", StringComparison.Ordinal) || !Uri.TryCreate(text, UriKind.Absolute, out Uri? uri))
            throw new CliException(ExitCodes.Usage, $"{where} is not a proxy URL such as socks5://proxy.example.org:1080, socks4a://proxy.example.org:1080 or http://proxy.example.org:3128");
        if (!fromEnvironment && uri.UserInfo.Contains(':', StringComparison.Ordinal))
            throw new CliException(ExitCodes.Usage, "a password in --proxy would be visible to every user of this machine: give the user in the URL (socks5://user@host:1080) and the password with --proxy-password-env VAR");

        string? user = uri.UserInfo.Length == 0 ? null : Uri.UnescapeDataString(uri.UserInfo.Split(':')[0]);
        try
        {
            if (passwordEnv is not null)
                return WithPassword(Pop3Proxy.FromUri(WithoutUserInfo(uri)), user, passwordEnv);
            Pop3Proxy proxy = Pop3Proxy.FromUri(uri);
            return proxy is HttpConnectProxy { Credentials.Password: "" }
                ? throw new CliException(ExitCodes.Usage, "--proxy names a user: give the proxy's password with --proxy-password-env VAR")
                : proxy;
        }
        catch (ArgumentException e)
        {
            string hint = user is not null && !fromEnvironment ? " (the proxy's password: --proxy-password-env VAR)" : "";
            string message = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
            throw new CliException(ExitCodes.Usage, $"{where}: {message}{hint}", e);
        }
    }

    private static Uri WithoutUserInfo(Uri uri) => new UriBuilder(uri) { UserName = "", Password = "" }.Uri;

    private static Pop3Proxy WithPassword(Pop3Proxy proxy, string? user, string variable)
    {
        if (user is null)
            throw new CliException(ExitCodes.Usage, "--proxy-password-env needs a user in the proxy URL, such as socks5://user@proxy.example.org:1080");
        string password = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new CliException(ExitCodes.Usage, $"the environment variable {variable} is not set or empty");
        var credentials = new NetworkCredential(user, password);
        return proxy switch
        {
            Socks5Proxy socks => new Socks5Proxy(socks.Host, socks.Port, credentials),
            HttpConnectProxy http => new HttpConnectProxy(http.Host, http.Port, credentials),
            _ => throw new CliException(ExitCodes.Usage, "--proxy-password-env: SOCKS4a has no passwords, only a user id"),
        };
    }

    private static (string Name, string Value)? Variable(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? (name, value) : null;

    /// <summary>curl's no_proxy: <c>*</c>, or comma-separated names that match the host or a domain it is in (a leading dot optional).</summary>
    internal static bool Bypasses(string noProxy, string host) =>
        noProxy.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Any(entry =>
            entry == "*"
            || string.Equals(host, entry.TrimStart('.'), StringComparison.OrdinalIgnoreCase)
            || host.EndsWith("." + entry.TrimStart('.'), StringComparison.OrdinalIgnoreCase));
}
