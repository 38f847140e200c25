using System.Globalization;
using System.Net;
using Poplib.Proxy;

namespace Poplib;

/// <summary>
/// A proxy to reach the POP3 server through (<see cref="Pop3ClientOptions.Proxy"/>): <see cref="Socks5Proxy"/>,
/// <see cref="Socks4aProxy"/> or <see cref="HttpConnectProxy"/>, or one made from a URL by <see cref="FromUri"/>.
/// The proxy resolves the server's host name (remote DNS): the client looks up only the proxy's own
/// name, so a network that answers only the proxy's queries still works, and the local resolver
/// never learns which server is used. The proxy handshake is part of connecting: the connect
/// timeout (<see cref="Pop3ClientOptions.Timeout"/>) bounds all of it. TLS, implicit or by STLS, runs
/// end to end through the tunnel: the proxy sees only encrypted bytes, and the server's certificate
/// is checked against the server's name, never the proxy's.
/// </summary>
public abstract class Pop3Proxy
{
    private protected Pop3Proxy(string host, int port)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Host = host;
        Port = port;
    }

    /// <summary>The proxy's host name or address.</summary>
    public string Host { get; }

    /// <summary>The proxy's TCP port.</summary>
    public int Port { get; }

    /// <summary>The URL scheme of this kind of proxy: <c>socks5</c>, <c>socks4a</c> or <c>http</c>.</summary>
    public abstract string Scheme { get; }

    /// <summary>The user name sent to the proxy, or <see langword="null"/>.</summary>
    public abstract string? UserName { get; }

    /// <summary>Whether a password is sent to the proxy (it never appears in <see cref="ToString"/>).</summary>
    public abstract bool HasPassword { get; }

    /// <summary>
    /// The proxy a URL names: <c>socks5://[user:password@]host[:port]</c> (also <c>socks5h://</c>; port
    /// 1080 by default), <c>socks4a://[user@]host[:port]</c> (1080; SOCKS4 has no password) or
    /// <c>http://[user:password@]host[:port]</c> (HTTP CONNECT with Basic authentication; port 80 by
    /// default, as in any http URL). The user and password are percent-decoded. Whatever the scheme,
    /// the proxy resolves the server's name.
    /// </summary>
    /// <exception cref="ArgumentException">Another scheme, a path or query, no host, or a password for SOCKS4a.</exception>
    public static Pop3Proxy FromUri(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri)
            throw new ArgumentException("A proxy URL must be absolute, such as socks5://proxy.example.org:1080.", nameof(uri));
        if (uri.AbsolutePath is not ("/" or "") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            throw new ArgumentException($"A proxy URL has no path, query or fragment: {Mask(uri)}.", nameof(uri));
        string host = uri.DnsSafeHost;
        if (host.Length == 0)
            throw new ArgumentException($"The proxy URL {Mask(uri)} names no host.", nameof(uri));
        (string? user, string? password) = UserInfo(uri);
        NetworkCredential? credentials = user is null ? null : new NetworkCredential(user, password ?? "");
        int port(int standard) => uri.Port > 0 ? uri.Port : standard;
        switch (uri.Scheme.ToLowerInvariant())
        {
            case "socks5" or "socks5h":
                if (user is not null && string.IsNullOrEmpty(password))
                    throw new ArgumentException($"A SOCKS5 user name goes with a password (RFC 1929): {Mask(uri)}.", nameof(uri));
                return new Socks5Proxy(host, port(Socks5Proxy.DefaultPort), credentials);
            case "socks4a":
                if (password is not null)
                    throw new ArgumentException($"SOCKS4a has no passwords, only a user id: {Mask(uri)}.", nameof(uri));
                return new Socks4aProxy(host, port(Socks4aProxy.DefaultPort), user);
            case "http":
                return new HttpConnectProxy(host, port(80), credentials);
            default:
                throw new ArgumentException($"Unknown proxy scheme \"{uri.Scheme}\" in {Mask(uri)}: use socks5://, socks4a:// or http://.", nameof(uri));
        }
    }

    /// <summary>The proxy's URL with the password masked, e.g. <c>socks5://alice:****@proxy.example.org:1080</c>.</summary>
    public override string ToString()
    {
        string host = Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host;
        string user = UserName is null ? "" : Uri.EscapeDataString(UserName) + (HasPassword ? ":****" : "") + "@";
        return $"{Scheme}://{user}{host}:{Port.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// Asks the proxy, over <paramref name="tunnel"/> (a connection to it), to connect to
    /// <paramref name="host"/>:<paramref name="port"/>; returns once the tunnel carries the server's bytes.
    /// Internal, so the kinds of proxy are the three above.
    /// </summary>
    internal abstract ValueTask OpenAsync(ProxyTunnel tunnel, TargetHost host, int port, bool async, CancellationToken cancellationToken);

    /// <summary>The URL as text with any password masked, for error messages.</summary>
    private static string Mask(Uri uri)
    {
        string text = uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped) + (uri.AbsolutePath == "/" ? "" : uri.AbsolutePath);
        return uri.UserInfo.Length == 0 ? text : text.Replace("://", "://" + (uri.UserInfo.Contains(':', StringComparison.Ordinal) ? uri.UserInfo[..uri.UserInfo.IndexOf(':', StringComparison.Ordinal)] + ":****" : uri.UserInfo) + "@", StringComparison.Ordinal);
    }

    private static (string? User, string? Password) UserInfo(Uri uri)
    {
        string info = uri.UserInfo;
        if (info.Length == 0)
            return (null, null);
        int colon = info.IndexOf(':', StringComparison.Ordinal);
        return colon < 0
            ? (Uri.UnescapeDataString(info), null)
            : (Uri.UnescapeDataString(info[..colon]), Uri.UnescapeDataString(info[(colon + 1)..]));
    }
}
