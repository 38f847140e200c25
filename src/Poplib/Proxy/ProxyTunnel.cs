using System.Net.Sockets;
using Poplib.Transport;

namespace Poplib.Proxy;

/// <summary>
/// The connection to a proxy while its handshake runs: exact reads and whole writes on the socket, each
/// bounded by what is left of the connect timeout (<paramref name="deadline"/>, in
/// <see cref="Environment.TickCount64"/>), so a proxy that answers slowly, a byte at a time or never
/// cannot stretch connecting past it. Reads never go past what the handshake asks for: the bytes
/// after the proxy's reply are the POP3 server's and stay in the socket for the session.
/// </summary>
internal sealed class ProxyTunnel(Socket socket, Pop3Proxy proxy, long deadline, TimeSpan timeout)
{
    private bool _quickAck = true;

    public Pop3Proxy Proxy => proxy;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool async, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int sent = await RunAsync(data, static (s, d, t) => s.SendAsync(d, SocketFlags.None, t), static (s, d) => s.Send(d.Span), async, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    /// <summary>Fills <paramref name="buffer"/>; a proxy that closes first broke its protocol (<paramref name="what"/> names the reply).</summary>
    public async ValueTask ReadExactlyAsync(Memory<byte> buffer, string what, bool async, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            // A proxy that writes its reply in pieces would otherwise wait for our delayed ACK before each.
            _quickAck = _quickAck && QuickAck.TryArm(socket);
            int read = await RunAsync<Memory<byte>>(buffer, static (s, b, t) => s.ReceiveAsync(b, SocketFlags.None, t), static (s, b) => s.Receive(b.Span), async, cancellationToken).ConfigureAwait(false);
            if (read == 0)
                throw Fail(Pop3ProxyFailure.ProtocolViolation, $"closed the connection in the middle of {what}");
            buffer = buffer[read..];
        }
    }

    /// <summary>An exception naming the proxy: "The SOCKS5 proxy socks5://…: <paramref name="what"/>."</summary>
    public Pop3ProxyException Fail(Pop3ProxyFailure reason, string what, int? replyCode = null) =>
        new(proxy, reason, $"The proxy {proxy} {what}.", replyCode);

    private async ValueTask<int> RunAsync<TData>(TData data, Func<Socket, TData, CancellationToken, ValueTask<int>> runAsync, Func<Socket, TData, int> run, bool async, CancellationToken cancellationToken)
    {
        long left = deadline - Environment.TickCount64;
        if (left <= 0)
            throw Expired(null);
        if (!async)
        {
            socket.ReceiveTimeout = socket.SendTimeout = (int)Math.Min(int.MaxValue, left);
            try
            {
                return run(socket, data);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                throw Expired(e);
            }
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(TimeSpan.FromMilliseconds(left));
        try
        {
            return await runAsync(socket, data, timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Expired(e);
        }
    }

    private TimeoutException Expired(Exception? inner) =>
        new($"The handshake with the proxy {proxy} took longer than the connect timeout of {timeout.TotalSeconds:0.###} s; the connection is closed.", inner);
}
