using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Poplib.Proxy;

namespace Poplib;

/// <summary>
/// A SOCKS4a proxy: SOCKS4 with the server's host name sent for the proxy to resolve (an IPv4 address
/// is sent as plain SOCKS4, which any SOCKS4 proxy takes). SOCKS4 has no password, only a user id;
/// it cannot reach IPv6 addresses. The reply is 8 octets.
/// </summary>
public sealed class Socks4aProxy : Pop3Proxy
{
    /// <summary>The usual SOCKS port.</summary>
    public const int DefaultPort = 1080;

    private const byte Granted = 90;

    /// <summary>A SOCKS4a proxy; <paramref name="userId"/> is sent as SOCKS4's USERID (ASCII, no NUL), or empty.</summary>
    public Socks4aProxy(string host, int port = DefaultPort, string? userId = null) : base(host, port)
    {
        if (userId is not null && (userId.Length > 255 || !userId.All(c => c is > ' ' and < '\x7F')))
            throw new ArgumentException("A SOCKS4 user id is printable ASCII without spaces, at most 255 characters.", nameof(userId));
        UserId = string.IsNullOrEmpty(userId) ? null : userId;
    }

    /// <summary>The user id sent to the proxy, or <see langword="null"/>.</summary>
    public string? UserId { get; }

    /// <inheritdoc/>
    public override string Scheme => "socks4a";

    /// <inheritdoc/>
    public override string? UserName => UserId;

    /// <inheritdoc/>
    public override bool HasPassword => false;

    internal override async ValueTask OpenAsync(ProxyTunnel tunnel, TargetHost host, int port, bool async, CancellationToken cancellationToken)
    {
        if (host.Address is { AddressFamily: AddressFamily.InterNetworkV6 })
            throw new NotSupportedException($"SOCKS4a cannot connect to an IPv6 address ({host.Name}): use a host name, or a SOCKS5 proxy.");

        // VN=4, CD=1 (CONNECT), DSTPORT, DSTIP, USERID, NUL; for a name DSTIP is 0.0.0.1 and the name and a NUL follow.
        byte[] user = Encoding.ASCII.GetBytes(UserId ?? "");
        byte[] address = host.Address?.GetAddressBytes() ?? [0, 0, 0, 1];
        byte[] name = host.Address is null ? [.. Encoding.ASCII.GetBytes(host.Name), 0] : [];
        byte[] request = [4, 1, 0, 0, .. address, .. user, 0, .. name];
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(2), (ushort)port);
        await tunnel.WriteAsync(request, async, cancellationToken).ConfigureAwait(false);

        byte[] reply = new byte[8];
        await tunnel.ReadExactlyAsync(reply, "its reply", async, cancellationToken).ConfigureAwait(false);
        if (reply[0] != 0)
            throw tunnel.Fail(Pop3ProxyFailure.ProtocolViolation, $"answered with version {reply[0]} instead of 0 (SOCKS4)");
        if (reply[1] != Granted)
            throw tunnel.Fail(Pop3ProxyFailure.ConnectFailed, $"could not connect to {host.WithPort(port)}: {Describe(reply[1])} (SOCKS4 reply {reply[1]})", reply[1]);
    }

    private static string Describe(byte reply) => reply switch
    {
        91 => "request rejected or failed",
        92 => "rejected: it could not reach the identd on the client",
        93 => "rejected: the identd reported another user id",
        _ => "an unknown reply",
    };
}
