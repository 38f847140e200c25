using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>
/// Where an LMTP server listens: a TCP host and port (<c>HOST:PORT</c>, <c>[v6addr]:PORT</c>) or a
/// Unix domain socket (<c>unix:/absolute/path</c>). Parsed from the text a user writes in an option
/// or a config file; every mistake is a <see cref="FormatException"/> that quotes the text.
/// </summary>
internal sealed record LmtpEndpoint
{
    private const string UnixPrefix = "unix:";

    // sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL.
    private const int MaxUnixPathBytes = 107;

    private LmtpEndpoint(string? host, int port, string? socketPath)
    {
        Host = host;
        Port = port;
        SocketPath = socketPath;
    }

    /// <summary>The host name or address for TCP; null for a Unix socket.</summary>
    public string? Host { get; }

    /// <summary>The TCP port; 0 for a Unix socket.</summary>
    public int Port { get; }

    /// <summary>The absolute path of the Unix socket; null for TCP.</summary>
    public string? SocketPath { get; }

    public bool IsUnixSocket => SocketPath is not null;

    public static LmtpEndpoint Tcp(string host, int port)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        return new LmtpEndpoint(host, port, null);
    }

    public static LmtpEndpoint Unix(string path) => Parse(UnixPrefix + path);

    /// <summary>Parses <c>HOST:PORT</c>, <c>[v6addr]:PORT</c> or <c>unix:/path</c>.</summary>
    public static LmtpEndpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text))
            throw Bad(text, "it is empty; write HOST:PORT, [IPv6]:PORT or unix:/path/to/socket");
        if (text.AsSpan().ContainsAny("\r\n\0\t "))
            throw Bad(text, "it contains a space or a control character");
        if (text.StartsWith(UnixPrefix, StringComparison.OrdinalIgnoreCase))
            return ParseUnix(text);

        string host;
        string portText;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
                throw Bad(text, "the '[' of an IPv6 address has no ']'");
            host = text[1..close];
            if (!IPAddress.TryParse(host, out IPAddress? v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
                throw Bad(text, $"'{host}' in brackets is not an IPv6 address");
            if (close + 1 >= text.Length || text[close + 1] != ':')
                throw Bad(text, "the port is missing; write [IPv6]:PORT");
            portText = text[(close + 2)..];
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0)
                throw Bad(text, "the port is missing; write HOST:PORT");
            host = text[..colon];
            portText = text[(colon + 1)..];
            if (host.Contains(':', StringComparison.Ordinal))
                throw Bad(text, "an IPv6 address must be written in brackets: [v6addr]:PORT");
            if (host.Length == 0)
                throw Bad(text, "the host is missing; write HOST:PORT");
            if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
                throw Bad(text, $"'{host}' is not a host name or an IPv4 address");
        }

        if (portText.Length == 0)
            throw Bad(text, "the port is missing");
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            throw Bad(text, $"the port '{portText}' is not a number from 1 to 65535");
        return new LmtpEndpoint(host, port, null);
    }

    private static LmtpEndpoint ParseUnix(string text)
    {
        string path = text[UnixPrefix.Length..];
        if (path.Length == 0)
            throw Bad(text, "the socket path is missing; write unix:/path/to/socket");
        if (!path.StartsWith('/'))
            throw Bad(text, "the socket path must be absolute (start with '/')");
        if (path.EndsWith('/'))
            throw Bad(text, "the socket path names a directory");
        if (System.Text.Encoding.UTF8.GetByteCount(path) > MaxUnixPathBytes)
            throw Bad(text, $"the socket path is longer than the {MaxUnixPathBytes} bytes a Unix socket address holds");
        return new LmtpEndpoint(null, 0, path);
    }

    private static FormatException Bad(string text, string why) =>
        new($"'{Quote(text)}' is not an LMTP address: {why}.");

    // The text as it can be shown in a message: controls escaped, at most 200 characters.
    private static string Quote(string text)
    {
        var shown = new System.Text.StringBuilder();
        foreach (char c in text.Length > 200 ? text[..200] : text)
            shown.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        return shown.ToString();
    }

    public override string ToString() =>
        SocketPath is not null ? UnixPrefix + SocketPath
        : Host!.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}"
        : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}
