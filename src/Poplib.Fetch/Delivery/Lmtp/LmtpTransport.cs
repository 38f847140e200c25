using System.Net;
using System.Net.Sockets;
using Poplib.Transport;

namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>
/// The socket under an LMTP session: TCP or a Unix domain socket, no TLS (LMTP is for the local
/// network or the local machine). Every connect, read and write is bounded: the sync path by the
/// socket's own timeouts, the async path by a timer that cancels the operation; both turn an expired
/// wait into <see cref="TimeoutException"/>. A read is given a deadline (a whole reply must arrive by
/// it), a write a timeout.
/// </summary>
internal sealed class LmtpTransport : IDisposable
{
    private readonly Socket _socket;
    private readonly string _peer;

    private LmtpTransport(Socket socket, string peer)
    {
        _socket = socket;
        _peer = peer;
    }

    public static async ValueTask<LmtpTransport> ConnectAsync(LmtpEndpoint endpoint, TimeSpan timeout, bool async, CancellationToken cancellationToken)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        EndPoint[] targets;
        if (endpoint.SocketPath is { } path)
        {
            targets = [new UnixDomainSocketEndPoint(path)];
        }
        else
        {
            IPAddress[] addresses = await SocketConnect.ResolveAsync(endpoint.Host!, timeout, async, cancellationToken).ConfigureAwait(false);
            targets = [.. addresses.Select(a => new IPEndPoint(a, endpoint.Port))];
        }

        Socket socket = await SocketConnect.ConnectAnyAsync(targets, deadline, async, (_, _) => ConnectTimeout(endpoint, timeout), cancellationToken).ConfigureAwait(false);
        if (!endpoint.IsUnixSocket)
            socket.NoDelay = true;
        return new LmtpTransport(socket, endpoint.ToString());
    }

    private static TimeoutException ConnectTimeout(LmtpEndpoint endpoint, TimeSpan timeout) =>
        new($"Connecting to the LMTP server {endpoint} took longer than the timeout of {timeout.TotalSeconds:0.###} s.");

    /// <summary>
    /// Reads what has arrived (at least one byte, or 0 at the end of the stream), waiting no later than
    /// <paramref name="deadline"/> (<see cref="Environment.TickCount64"/>).
    /// </summary>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, long deadline, TimeSpan timeout, bool async, CancellationToken cancellationToken)
    {
        long left = deadline - Environment.TickCount64;
        if (left <= 0)
            throw ReplyTimeout(timeout);
        if (!async)
        {
            _socket.ReceiveTimeout = (int)Math.Min(int.MaxValue, left);
            try
            {
                return _socket.Receive(buffer.Span);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                throw ReplyTimeout(timeout, e);
            }
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(TimeSpan.FromMilliseconds(left));
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw ReplyTimeout(timeout, e);
        }
    }

    /// <summary>Sends all of <paramref name="data"/>, each send bounded by <paramref name="timeout"/>.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, TimeSpan timeout, bool async, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int sent;
            if (!async)
            {
                _socket.SendTimeout = Milliseconds(timeout);
                long started = Environment.TickCount64;
                try
                {
                    sent = _socket.Send(data.Span);
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
                {
                    // A peer that resets the connection while a blocking send waits for room can surface
                    // as the same error long before the timeout: that is a broken connection, not a slow one.
                    if (Environment.TickCount64 - started < (long)timeout.TotalMilliseconds - 50)
                        throw new LmtpProtocolException($"The connection to the LMTP server {_peer} broke while sending ({e.Message}); it is closed.", e);
                    throw WriteTimeout(timeout, e);
                }
            }
            else
            {
                using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timer.CancelAfter(timeout);
                try
                {
                    sent = await _socket.SendAsync(data, SocketFlags.None, timer.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    throw WriteTimeout(timeout, e);
                }
            }

            data = data[sent..];
        }
    }

    private TimeoutException ReplyTimeout(TimeSpan timeout, Exception? inner = null) =>
        new($"The LMTP server {_peer} did not complete its reply within {timeout.TotalSeconds:0.###} s; the connection is closed.", inner);

    private TimeoutException WriteTimeout(TimeSpan timeout, Exception inner) =>
        new($"Sending to the LMTP server {_peer} took longer than the timeout of {timeout.TotalSeconds:0.###} s; the connection is closed.", inner);

    private static int Milliseconds(TimeSpan timeout) => (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 1, int.MaxValue);

    public override string ToString() => _peer;

    public void Dispose() => _socket.Dispose();
}
