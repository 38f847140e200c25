using System.Net;
using System.Text;
using Poplib.Diagnostics;
using Poplib.Proxy;

namespace Poplib;

/// <summary>
/// An HTTP proxy that tunnels with <c>CONNECT host:port</c> (RFC 9110 section 9.3.6), with Basic
/// authentication (RFC 7617, user and password in UTF-8) when <see cref="Credentials"/> are given —
/// sent in clear text to the proxy, as Basic is. Any 2xx opens the tunnel; 407 (and 401, which
/// tinyproxy sends for wrong credentials) is an authentication failure, anything else a refusal quoting the status line, escaped. The reply's
/// header is bounded: <see cref="MaxResponseHeaderOctets"/> octets and <see cref="MaxResponseHeaderLines"/> lines.
/// </summary>
public sealed class HttpConnectProxy : Pop3Proxy
{
    /// <summary>The most octets of the proxy's reply header, status line included.</summary>
    public const int MaxResponseHeaderOctets = 16 * 1024;

    /// <summary>The most lines of the proxy's reply header, status line included.</summary>
    public const int MaxResponseHeaderLines = 100;

    /// <summary>An HTTP CONNECT proxy; with <paramref name="credentials"/>, a <c>Proxy-Authorization: Basic</c> header is sent.</summary>
    public HttpConnectProxy(string host, int port, NetworkCredential? credentials = null) : base(host, port)
    {
        if (credentials is not null && (string.IsNullOrEmpty(credentials.UserName) || credentials.UserName.Contains(':', StringComparison.Ordinal)))
            throw new ArgumentException("A Basic authentication user name is not empty and has no ':' (RFC 7617).", nameof(credentials));
        Credentials = credentials;
    }

    /// <summary>The user name and password for Basic authentication, or <see langword="null"/>.</summary>
    public NetworkCredential? Credentials { get; }

    /// <inheritdoc/>
    public override string Scheme => "http";

    /// <inheritdoc/>
    public override string? UserName => Credentials?.UserName;

    /// <inheritdoc/>
    public override bool HasPassword => Credentials is not null;

    internal override async ValueTask OpenAsync(ProxyTunnel tunnel, TargetHost host, int port, bool async, CancellationToken cancellationToken)
    {
        // TargetHost holds only letters, digits, '-', '_', '.' and IPv6 hex and colons: nothing to escape.
        string authority = host.WithPort(port);
        var request = new StringBuilder()
            .Append("CONNECT ").Append(authority).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(authority).Append("\r\n");
        if (Credentials is not null)
        {
            string token = Convert.ToBase64String(Encoding.UTF8.GetBytes(Credentials.UserName + ":" + Credentials.Password));
            request.Append("Proxy-Authorization: Basic ").Append(token).Append("\r\n");
        }

        byte[] bytes = Encoding.ASCII.GetBytes(request.Append("\r\n").ToString());
        try
        {
            await tunnel.WriteAsync(bytes, async, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Array.Clear(bytes);
        }

        byte[] statusLine = await ReadHeaderAsync(tunnel, async, cancellationToken).ConfigureAwait(false);
        int status = ParseStatus(tunnel, statusLine);
        if (status is >= 200 and < 300)
            return;
        string quoted = ServerText.Escape(statusLine, maxLength: 200);
        // 407 is the proxy's "authenticate"; tinyproxy answers wrong credentials with 401 instead.
        throw status is 407 or 401
            ? tunnel.Fail(Pop3ProxyFailure.AuthenticationFailed, Credentials is null
                ? $"requires authentication (\"{quoted}\"): give a user name and password"
                : $"refused the user name and password for \"{Credentials.UserName}\" (\"{quoted}\")", status)
            : tunnel.Fail(Pop3ProxyFailure.ConnectFailed, $"refused to connect to {authority}: \"{quoted}\"", status);
    }

    /// <summary>
    /// Reads the reply header up to its empty line, and returns the status line. One octet per read:
    /// whatever follows the header is the POP3 server's (its greeting may follow at once) and must stay
    /// in the socket; a reply header is a hundred octets or so.
    /// </summary>
    private static async ValueTask<byte[]> ReadHeaderAsync(ProxyTunnel tunnel, bool async, CancellationToken cancellationToken)
    {
        byte[] header = new byte[MaxResponseHeaderOctets];
        int length = 0, lines = 0, lineStart = 0;
        byte[]? statusLine = null;
        while (true)
        {
            if (length == header.Length)
                throw tunnel.Fail(Pop3ProxyFailure.ProtocolViolation, $"sent a reply header longer than {MaxResponseHeaderOctets} octets");
            await tunnel.ReadExactlyAsync(header.AsMemory(length, 1), "its reply header", async, cancellationToken).ConfigureAwait(false);
            if (header[length++] != (byte)'\n')
                continue;
            ReadOnlySpan<byte> line = header.AsSpan(lineStart, length - lineStart).TrimEnd("\r\n"u8);
            lineStart = length;
            if (statusLine is null)
            {
                statusLine = line.ToArray();
                continue;
            }

            if (line.IsEmpty)
                return statusLine;
            if (++lines >= MaxResponseHeaderLines)
                throw tunnel.Fail(Pop3ProxyFailure.ProtocolViolation, $"sent a reply header of more than {MaxResponseHeaderLines} lines");
        }
    }

    // "HTTP/1.x SP 3DIGIT [SP reason]" (RFC 9112 section 4).
    private static int ParseStatus(ProxyTunnel tunnel, byte[] line)
    {
        if (line.Length < 12 || !line.AsSpan(0, 7).SequenceEqual("HTTP/1."u8) || !char.IsAsciiDigit((char)line[7]) || line[8] != ' '
            || !line.AsSpan(9, 3).ToArray().All(b => char.IsAsciiDigit((char)b)) || (line.Length > 12 && line[12] != ' '))
        {
            throw tunnel.Fail(Pop3ProxyFailure.ProtocolViolation, $"did not answer in HTTP: \"{ServerText.Escape(line, maxLength: 200)}\"");
        }

        return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    }
}
