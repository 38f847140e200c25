using System.Net.Sockets;

namespace Poplib.Transport;

/// <summary>
/// Linux's TCP_QUICKACK: acknowledge the next segment at once. Many peers write a reply in several
/// segments; with Nagle on their side and delayed ACK on ours, each later one waits ~40 ms for our
/// ACK. The kernel clears the flag by itself, so it is set before each read that waits for a reply.
/// </summary>
internal static class QuickAck
{
    private const int IpProtoTcp = 6;
    private const int TcpQuickAck = 12;

    /// <summary>Sets the flag; false where it cannot be set (not Linux, not TCP), so the caller stops trying.</summary>
    public static bool TryArm(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            socket.SetRawSocketOption(IpProtoTcp, TcpQuickAck, [1, 0, 0, 0]);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
