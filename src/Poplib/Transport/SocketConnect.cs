using System.Net;
using System.Net.Sockets;

namespace Poplib.Transport;

/// <summary>
/// Name lookup and connecting a socket within a timeout, sync or async: shared by the POP3 transport
/// and the LMTP client of Poplib.Fetch (TCP or a Unix socket). An expired timer is the caller's
/// <see cref="TimeoutException"/>; the caller's own cancellation stays an <see cref="OperationCanceledException"/>.
/// </summary>
internal static class SocketConnect
{
    /// <summary>
    /// The addresses of <paramref name="host"/>: itself when it is an address; otherwise looked up, within
    /// <paramref name="timeout"/> on the async path. (A synchronous lookup cannot be bounded: the platform
    /// resolver has its own timeouts. Pass an address to avoid it.)
    /// </summary>
    public static async ValueTask<IPAddress[]> ResolveAsync(string host, TimeSpan timeout, bool async, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out IPAddress? literal))
            return [literal];
        IPAddress[] addresses;
        if (!async)
        {
            addresses = Dns.GetHostAddresses(host);
        }
        else
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timer.CancelAfter(timeout);
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, timer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Looking up {host} took longer than the timeout of {timeout.TotalSeconds:0.###} s.");
            }
        }

        return addresses.Length > 0 ? addresses : throw new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>
    /// Connects to <paramref name="targets"/> in turn (TCP, or a Unix socket) until one answers, all by
    /// <paramref name="deadline"/> (<see cref="Environment.TickCount64"/>), and returns the connected
    /// socket. The last failure is thrown when none answers; <paramref name="timedOut"/> makes the
    /// timeout for a target and the time it had (or null and the time left, when none was tried).
    /// </summary>
    public static async ValueTask<Socket> ConnectAnyAsync(IEnumerable<EndPoint> targets, long deadline, bool async, Func<EndPoint?, TimeSpan, TimeoutException> timedOut, CancellationToken cancellationToken)
    {
        Exception? last = null;
        foreach (EndPoint target in targets)
        {
            TimeSpan left = TimeSpan.FromMilliseconds(deadline - Environment.TickCount64);
            if (left <= TimeSpan.Zero)
                break;
            var socket = target is UnixDomainSocketEndPoint
                ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
                : new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await ConnectAsync(socket, target, left, async, () => timedOut(target, left), cancellationToken).ConfigureAwait(false);
                return socket;
            }
            catch (Exception e) when (e is SocketException or TimeoutException)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last ?? timedOut(null, TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)));
    }

    /// <summary>Connects <paramref name="socket"/> within <paramref name="timeout"/>; <paramref name="timedOut"/> makes the exception when it expires.</summary>
    private static async ValueTask ConnectAsync(Socket socket, EndPoint endPoint, TimeSpan timeout, bool async, Func<TimeoutException> timedOut, CancellationToken cancellationToken)
    {
        if (!async)
        {
            ConnectBlocking(socket, endPoint, timeout, timedOut);
            return;
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(endPoint, timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw timedOut();
        }
    }

    // On Linux a blocking connect is bounded by the send timeout (SO_SNDTIMEO), and the socket stays
    // blocking. (Once .NET has put a socket into non-blocking mode it keeps it so in the OS, even after
    // Blocking = true, and emulates every later blocking read through its epoll thread and the thread
    // pool: a couple of thread switches for each read that has to wait.) Elsewhere a blocking connect
    // has no timeout of its own: start it non-blocking and wait with Select. Both the write and the
    // error set are watched: Winsock reports a refused connection in the error set only. Select takes
    // at most int.MaxValue microseconds (~35 minutes), so long timeouts wait in slices.
    private static void ConnectBlocking(Socket socket, EndPoint endPoint, TimeSpan timeout, Func<TimeoutException> timedOut)
    {
        if (OperatingSystem.IsLinux())
        {
            socket.SendTimeout = (int)Math.Max(1, Math.Ceiling(timeout.TotalMilliseconds));
            try
            {
                socket.Connect(endPoint);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.InProgress or SocketError.WouldBlock)
            {
                throw timedOut();
            }

            return;
        }

        socket.Blocking = false;
        try
        {
            socket.Connect(endPoint);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (true)
            {
                long leftMs = deadline - Environment.TickCount64;
                if (leftMs <= 0)
                    throw timedOut();
                var writable = new List<Socket> { socket };
                var failed = new List<Socket> { socket };
                Socket.Select(null, writable, failed, (int)Math.Min(leftMs * 1000, 30L * 60 * 1_000_000));
                if (writable.Count > 0 || failed.Count > 0)
                    break;
            }

            int error = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (error != 0)
                throw new SocketException(error);
        }

        socket.Blocking = true;
    }
}
