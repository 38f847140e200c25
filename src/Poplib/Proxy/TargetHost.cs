using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Poplib.Proxy;

/// <summary>
/// The POP3 server's host as a proxy is asked for it: an IP address, or a host name in ASCII (an
/// internationalized name in its IDNA form) made only of letters, digits, <c>-</c>, <c>_</c> and
/// <c>.</c>, at most 255 octets — so nothing a caller passes as a host can smuggle a CR/LF into an
/// HTTP request or overflow a SOCKS length octet. The name is not looked up here: the proxy resolves it.
/// </summary>
internal sealed class TargetHost
{
    private TargetHost(string name, IPAddress? address)
    {
        Name = name;
        Address = address;
    }

    /// <summary>The name as sent (for an IPv6 address: without brackets).</summary>
    public string Name { get; }

    /// <summary>The address, when the host is an IP literal; null for a name.</summary>
    public IPAddress? Address { get; }

    /// <summary><c>host:port</c> as HTTP's CONNECT and error messages write it (<c>[v6]:port</c>).</summary>
    public string WithPort(int port) =>
        (Address?.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Name}]" : Name) + ":" + port.ToString(CultureInfo.InvariantCulture);

    public static TargetHost Parse(string host)
    {
        string bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (IPAddress.TryParse(bare, out IPAddress? address) && (address.AddressFamily == AddressFamily.InterNetworkV6 || bare.Count(c => c == '.') == 3))
            return new TargetHost(address.ToString(), address);

        string ascii;
        try
        {
            ascii = new IdnMapping().GetAscii(host);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"\"{Diagnostics.ServerText.Escape(host)}\" is not a host name a proxy can be asked for.", nameof(host), e);
        }

        if (ascii.Length > 255 || !ascii.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ArgumentException($"\"{Diagnostics.ServerText.Escape(host)}\" is not a host name a proxy can be asked for (letters, digits, '-', '_' and '.', at most 255 octets).", nameof(host));
        return new TargetHost(ascii, null);
    }
}
