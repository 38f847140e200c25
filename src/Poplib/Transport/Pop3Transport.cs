using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace Poplib.Transport;

/// <summary>
/// The byte pipe under a session: a TCP socket, optionally wrapped in TLS (implicitly at connect,
/// or later by STLS). Every read, write, connect and handshake is bounded by the timeout; sync calls
/// use the socket's own timeouts, async calls a timer that cancels the operation. Both paths turn an
/// expired timer into <see cref="TimeoutException"/>.
/// </summary>
internal sealed class Pop3Transport : IDisposable
{
    private const int IpProtoTcp = 6;
    private const int TcpQuickAck = 12;

    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly TimeSpan _timeout;
    private CancellationTokenSource _timer = new();
    private Stream _stream;
    private bool _quickAckUnavailable = !OperatingSystem.IsLinux();

    private Pop3Transport(Socket socket, TimeSpan timeout)
    {
        _socket = socket;
        _timeout = timeout;
        int ms = (int)timeout.TotalMilliseconds;
        socket.ReceiveTimeout = ms;
        socket.SendTimeout = ms;
        socket.NoDelay = true;
        _network = new NetworkStream(socket, ownsSocket: true);
        _stream = _network;
    }

    public bool IsEncrypted => _stream is SslStream;

    /// <summary>The TLS stream once encryption is on, for callers that want protocol and certificate details.</summary>
    public SslStream? SslStream => _stream as SslStream;

    public EndPoint? RemoteEndPoint => _socket.RemoteEndPoint;

    /// <summary>
    /// Resolves <paramref name="host"/> and connects to its addresses in turn, all within one
    /// <paramref name="timeout"/>. (A synchronous name lookup cannot be bounded: the platform resolver
    /// has its own timeouts. Pass an address to avoid it.)
    /// </summary>
    public static async ValueTask<Pop3Transport> ConnectAsync(string host, int port, TimeSpan timeout, bool async, CancellationToken cancellationToken)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        IPAddress[] addresses = IPAddress.TryParse(host, out IPAddress? literal)
            ? [literal]
            : async
                ? await ResolveWithTimerAsync(host, timeout, cancellationToken).ConfigureAwait(false)
                : Dns.GetHostAddresses(host);
        if (addresses.Length == 0)
            throw new SocketException((int)SocketError.HostNotFound);

        Exception? last = null;
        foreach (IPAddress address in addresses)
        {
            TimeSpan left = TimeSpan.FromMilliseconds(deadline - Environment.TickCount64);
            if (left <= TimeSpan.Zero)
                break;
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            var endPoint = new IPEndPoint(address, port);
            try
            {
                if (async)
                    await ConnectWithTimerAsync(socket, endPoint, left, cancellationToken).ConfigureAwait(false);
                else
                    ConnectBlocking(socket, endPoint, left);
                return new Pop3Transport(socket, timeout);
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

        throw last ?? new TimeoutException($"Connecting to {host}:{port} took longer than the timeout of {timeout.TotalSeconds:0.###} s.");
    }

    private static async ValueTask<IPAddress[]> ResolveWithTimerAsync(string host, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            return await Dns.GetHostAddressesAsync(host, timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Looking up {host} took longer than the timeout of {timeout.TotalSeconds:0.###} s.");
        }
    }

    private static async ValueTask ConnectWithTimerAsync(Socket socket, IPEndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(endPoint, timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw ConnectTimeout(endPoint, timeout);
        }
    }

    // On Linux a blocking connect is bounded by the send timeout (SO_SNDTIMEO), and the socket stays
    // blocking. (Once .NET has put a socket into non-blocking mode it keeps it so in the OS, even after
    // Blocking = true, and emulates every later blocking read through its epoll thread and the thread
    // pool: a couple of thread switches for each read that has to wait.) Elsewhere a blocking connect
    // has no timeout of its own: start it non-blocking and wait with Select. Both the write and the
    // error set are watched: Winsock reports a refused connection in the error set only. Select takes
    // at most int.MaxValue microseconds (~35 minutes), so long timeouts wait in slices.
    private static void ConnectBlocking(Socket socket, IPEndPoint endPoint, TimeSpan timeout)
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
                throw ConnectTimeout(endPoint, timeout);
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
                    throw ConnectTimeout(endPoint, timeout);
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

    private static TimeoutException ConnectTimeout(IPEndPoint endPoint, TimeSpan timeout) =>
        new($"Connecting to {endPoint} took longer than the timeout of {timeout.TotalSeconds:0.###} s.");

    public async ValueTask StartTlsAsync(SslClientAuthenticationOptions options, bool async, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(_network, leaveInnerStreamOpen: false);
        try
        {
            if (async)
            {
                CancellationToken token = StartTimer(cancellationToken, out var registration);
                try
                {
                    await ssl.AuthenticateAsClientAsync(options, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException e)
                {
                    throw Canceled(e, "The TLS handshake", cancellationToken);
                }
                finally
                {
                    StopTimer(registration);
                }
            }
            else
            {
                try
                {
                    ssl.AuthenticateAsClient(options);
                }
                catch (IOException e) when (IsSocketTimeout(e))
                {
                    throw Timeout("The TLS handshake", e);
                }
            }
        }
        catch
        {
            if (async)
                await ssl.DisposeAsync().ConfigureAwait(false);
            else
                ssl.Dispose();
            throw;
        }

        _stream = ssl;
    }

    /// <summary>
    /// Asks Linux to acknowledge the next segment at once. Many servers write a reply in two segments;
    /// with Nagle on their side and delayed ACK on ours, the second waits ~40 ms for our ACK. The kernel
    /// clears the flag again by itself, so it is set before each read that waits for a reply.
    /// </summary>
    public void ArmQuickAck()
    {
        if (_quickAckUnavailable)
            return;
        try
        {
            _socket.SetRawSocketOption(IpProtoTcp, TcpQuickAck, [1, 0, 0, 0]);
        }
        catch (SocketException)
        {
            _quickAckUnavailable = true;
        }
    }

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, bool async, CancellationToken cancellationToken)
    {
        if (!async)
        {
            try
            {
                return _stream.Read(buffer.Span);
            }
            catch (IOException e) when (IsSocketTimeout(e))
            {
                throw Timeout("Waiting for the server", e);
            }
        }

        CancellationToken token = StartTimer(cancellationToken, out var registration);
        try
        {
            return await _stream.ReadAsync(buffer, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            throw Canceled(e, "Waiting for the server", cancellationToken);
        }
        finally
        {
            StopTimer(registration);
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool async, CancellationToken cancellationToken)
    {
        if (!async)
        {
            try
            {
                _stream.Write(data.Span);
                _stream.Flush();
                return;
            }
            catch (IOException e) when (IsSocketTimeout(e))
            {
                throw Timeout("Sending to the server", e);
            }
        }

        CancellationToken token = StartTimer(cancellationToken, out var registration);
        try
        {
            await _stream.WriteAsync(data, token).ConfigureAwait(false);
            await _stream.FlushAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            throw Canceled(e, "Sending to the server", cancellationToken);
        }
        finally
        {
            StopTimer(registration);
        }
    }

    // One timer per connection, re-armed for each async operation: a CancellationTokenSource per
    // read would allocate on the body path.
    private CancellationToken StartTimer(CancellationToken cancellationToken, out CancellationTokenRegistration registration)
    {
        _timer.CancelAfter(_timeout);
        registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _timer)
            : default;
        return _timer.Token;
    }

    private void StopTimer(CancellationTokenRegistration registration)
    {
        registration.Dispose();
        if (!_timer.TryReset())
        {
            // The timer fired (or the caller cancelled) after the operation had finished; a fired
            // source cannot be re-armed, so take a fresh one.
            _timer.Dispose();
            _timer = new CancellationTokenSource();
        }
    }

    /// <summary>
    /// The shared timer also carries the caller's cancellation, so a cancelled operation is told apart
    /// here: the caller's token gets an exception that names it (for <c>when (e.CancellationToken == ct)</c>),
    /// anything else was the timer.
    /// </summary>
    private Exception Canceled(OperationCanceledException e, string what, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested
            ? new OperationCanceledException($"{what} was cancelled; the connection is closed.", e, cancellationToken)
            : Timeout(what, e);

    private TimeoutException Timeout(string what, Exception? inner = null) =>
        new($"{what} took longer than the timeout of {_timeout.TotalSeconds:0.###} s; the connection is closed.", inner);

    private static bool IsSocketTimeout(IOException e) =>
        e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock };

    public void Dispose()
    {
        _stream.Dispose();
        _network.Dispose();
        _timer.Dispose();
    }
}
