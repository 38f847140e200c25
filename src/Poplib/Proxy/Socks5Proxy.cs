using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Poplib.Proxy;

namespace Poplib;

/// <summary>
/// A SOCKS5 proxy (RFC 1928), with user name and password when <see cref="Credentials"/> are given
/// (RFC 1929; sent in clear text to the proxy, as that RFC does). The server's host name goes to the
/// proxy as a name, for the proxy to resolve. Every reply of the protocol has a fixed or
/// length-prefixed size: at most 262 octets are read.
/// </summary>
public sealed class Socks5Proxy : Pop3Proxy
{
    /// <summary>The usual SOCKS port.</summary>
    public const int DefaultPort = 1080;

    private const byte Version = 5;
    private const byte NoAuthentication = 0x00;
    private const byte UserPassword = 0x02;
    private const byte NoAcceptableMethod = 0xFF;

    /// <summary>A SOCKS5 proxy; with <paramref name="credentials"/>, user name and password (each 1–255 octets in UTF-8) are offered too.</summary>
    public Socks5Proxy(string host, int port = DefaultPort, NetworkCredential? credentials = null) : base(host, port)
    {
        if (credentials is not null)
        {
            if (!FitsOneOctet(credentials.UserName) || !FitsOneOctet(credentials.Password))
                throw new ArgumentException("A SOCKS5 user name and password are each 1 to 255 octets in UTF-8 (RFC 1929).", nameof(credentials));
        }

        Credentials = credentials;
    }

    /// <summary>The user name and password for RFC 1929, or <see langword="null"/> to offer no authentication only.</summary>
    public NetworkCredential? Credentials { get; }

    /// <inheritdoc/>
    public override string Scheme => "socks5";

    /// <inheritdoc/>
    public override string? UserName => Credentials?.UserName;

    /// <inheritdoc/>
    public override bool HasPassword => Credentials is not null;

    internal override async ValueTask OpenAsync(ProxyTunnel tunnel, TargetHost host, int port, bool async, CancellationToken cancellationToken)
    {
        // Offer "no authentication", and user/password when there are credentials: a proxy that needs
        // none takes the first, and one that needs them picks the second.
        byte[] greeting = Credentials is null ? [Version, 1, NoAuthentication] : [Version, 2, NoAuthentication, UserPassword];
        await tunnel.WriteAsync(greeting, async, cancellationToken).ConfigureAwait(false);
        byte[] choice = new byte[2];
        await tunnel.ReadExactlyAsync(choice, "its choice of authentication method", async, cancellationToken).ConfigureAwait(false);
        if (choice[0] != Version)
            throw tunnel.Fail(Pop3ProxyFailure.ProtocolViolation, $"answered with version {choice[0]} instead of SOCKS 5");
        switch (choice[1])
        {
            case NoAuthentication:
                break;
            case UserPassword when Credentials is not null:
                await AuthenticateAsync(tunnel, Credentials, async, cancellationToken).ConfigureAwait(false);
                break;
            case NoAcceptableMethod:
                throw tunnel.Fail(Pop3ProxyFailure.AuthenticationFailed, Credentials is null
                    ? "requires authentication: it accepts no connection without it (give a user name and password)"
                    : "accepts none of the authentication methods offered (none; user name and password)", NoAcceptableMethod);
            default:
                throw tunnel.Fail(Pop3ProxyFailure.ProtocolViolation, $"chose authentication method 0x{choice[1]:X2}, which was not offered");
        }

        await tunnel.WriteAsync(ConnectRequest(host, port), async, cancellationToken).ConfigureAwait(false);
        await ReadReplyAsync(tunnel, host, port, async, cancellationToken).ConfigureAwait(false);
    }

    // RFC 1929: VER=1, ULEN, UNAME, PLEN, PASSWD; the reply is VER=1, STATUS (0 = success).
    private static async ValueTask AuthenticateAsync(ProxyTunnel tunnel, NetworkCredential credentials, bool async, CancellationToken cancellationToken)
    {
        byte[] user = Encoding.UTF8.GetBytes(credentials.UserName);
        byte[] password = Encoding.UTF8.GetBytes(credentials.Password);
        byte[] request = [1, (byte)user.Length, .. user, (byte)password.Length, .. password];
        try
        {
            await tunnel.WriteAsync(request, async, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Array.Clear(password);
            Array.Clear(request);
        }

        byte[] status = new byte[2];
        await tunnel.ReadExactlyAsync(status, "its answer to the user name and password", async, cancellationToken).ConfigureAwait(false);
        if (status[0] != 1)
            throw tunnel.Fail(Pop3ProxyFailure.ProtocolViolation, $"answered the user name and password with version {status[0]} instead of 1 (RFC 1929)");
        if (status[1] != 0)
            throw tunnel.Fail(Pop3ProxyFailure.AuthenticationFailed, $"refused the user name and password for \"{credentials.UserName}\"", status[1]);
    }

    // VER=5, CMD=1 (CONNECT), RSV=0, ATYP and address (1: IPv4, 4: IPv6, 3: a name for the proxy to resolve), port.
    private static byte[] ConnectRequest(TargetHost host, int port)
    {
        byte[] address = host.Address switch
        {
            { AddressFamily: AddressFamily.InterNetwork } v4 => [1, .. v4.GetAddressBytes()],
            { } v6 => [4, .. v6.GetAddressBytes()],
            null => [3, (byte)host.Name.Length, .. Encoding.ASCII.GetBytes(host.Name)],
        };
        byte[] request = [Version, 1, 0, .. address, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(^2), (ushort)port);
        return request;
    }

    // VER, REP, RSV, ATYP, BND.ADDR, BND.PORT: read to its end (the bound address is not used), never further.
    private static async ValueTask ReadReplyAsync(ProxyTunnel tunnel, TargetHost host, int port, bool async, CancellationToken cancellationToken)
    {
        byte[] head = new byte[4];
        await tunnel.ReadExactlyAsync(head, "its reply to CONNECT", async, cancellationToken).ConfigureAwait(false);
        if (head[0] != Version)
            throw tunnel.Fail(Pop3ProxyFailure.ProtocolViolation, $"answered CONNECT with version {head[0]} instead of SOCKS 5");
        if (head[1] != 0)
            throw tunnel.Fail(Pop3ProxyFailure.ConnectFailed, $"could not connect to {host.WithPort(port)}: {Describe(head[1])} (SOCKS5 reply {head[1]})", head[1]);
        byte[] rest = new byte[1 + 255 + 2];
        int length = head[3] switch
        {
            1 => 4 + 2,
            4 => 16 + 2,
            3 => 1,
            _ => throw tunnel.Fail(Pop3ProxyFailure.ProtocolViolation, $"answered CONNECT with address type {head[3]}, which SOCKS5 does not have"),
        };
        await tunnel.ReadExactlyAsync(rest.AsMemory(0, length), "its reply to CONNECT", async, cancellationToken).ConfigureAwait(false);
        if (head[3] == 3)
            await tunnel.ReadExactlyAsync(rest.AsMemory(1, rest[0] + 2), "its reply to CONNECT", async, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>RFC 1928 section 6's reply codes.</summary>
    private static string Describe(byte reply) => reply switch
    {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by its rules",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "an unknown failure",
    };

    private static bool FitsOneOctet(string? value) => Encoding.UTF8.GetByteCount(value ?? "") is >= 1 and <= 255;
}
