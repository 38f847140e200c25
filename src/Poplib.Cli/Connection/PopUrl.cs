using System.Globalization;

namespace Poplib.Cli.Connection;

/// <summary>
/// A POP URL (RFC 2384): <c>pop://user;AUTH=mech@host:port</c>, and <c>pops://</c> for implicit TLS.
/// A password in the URL is refused: it would end up in the shell's history and the process list.
/// </summary>
internal sealed record PopUrl(string Host, int? Port, string? User, string? Auth, bool ImplicitTls)
{
    public static PopUrl Parse(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("pop" or "pops"))
            throw new CliException(ExitCodes.Usage, $"not a POP URL: {text} (expected pop://[user[;AUTH=mech]@]host[:port] or pops://…)");
        if (uri.AbsolutePath is not ("" or "/") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            throw new CliException(ExitCodes.Usage, $"a POP URL has no path, query or fragment: {text}");

        string? user = null;
        string? auth = null;
        if (uri.UserInfo.Length > 0)
        {
            // Split first, unescape after: an escaped ";" or ":" belongs to the user name.
            string info = uri.UserInfo;
            if (info.Contains(':', StringComparison.Ordinal))
                throw new CliException(ExitCodes.Usage, "a password in the URL is not accepted (it would be visible to other users); use --password-env or --password-file");
            int semicolon = info.IndexOf(';', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(semicolon < 0 ? info : info[..semicolon]);
            if (semicolon >= 0)
            {
                string parameter = Uri.UnescapeDataString(info[(semicolon + 1)..]);
                if (!parameter.StartsWith("AUTH=", StringComparison.OrdinalIgnoreCase))
                    throw new CliException(ExitCodes.Usage, $"unknown POP URL parameter: {parameter}");
                auth = parameter[5..];
            }
        }

        int? port = uri.IsDefaultPort || uri.Port < 0 ? null : uri.Port;
        return new PopUrl(uri.IdnHost, port, user is { Length: > 0 } ? user : null, auth, uri.Scheme == "pops");
    }

    public override string ToString() =>
        $"{(ImplicitTls ? "pops" : "pop")}://{(User is null ? "" : User + "@")}{Host}{(Port is int p ? ":" + p.ToString(CultureInfo.InvariantCulture) : "")}";
}
