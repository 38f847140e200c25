using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using Poplib.Proxy;

namespace Poplib.Transport;

/// <summary>
/// The byte pipe under a session: a TCP socket, optionally wrapped in TLS (implicitly at connect,
/// or later by STLS). Every read, write, connect and handshake is bounded by the timeout, and by what
/// is left of the current command's budget of waiting (<see cref="WaitBudget"/>); sync calls use the
/// socket's own timeouts, async calls a timer that cancels the operation. Both paths turn an expired
/// timer into <see cref="TimeoutException"/>, naming the command's deadline when that was the bound.
/// </summary>
internal sealed class Pop3Transport : IDisposable
{
    private readonly Socket? _socket;
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly StreamWatchdog? _watchdog;
    private readonly TimeSpan _timeout;
    private WaitBudget _budget;
    private int _socketTimeoutMs;
    private CancellationTokenSource _timer = new();
    private Stream _stream;
    private bool _quickAckUnavailable = !OperatingSystem.IsLinux();

    /// <summary>
    /// A transport over <paramref name="inner"/>. With <paramref name="socket"/> (ours, or one the caller's
    /// stream lets us reach) the socket's timeouts bound sync waits and TCP_QUICKACK is armed; without
    /// one, a <see cref="StreamWatchdog"/> closes the stream when a wait expires. <paramref name="leaveOpen"/>:
    /// disposing the transport leaves <paramref name="inner"/> (and its socket) open.
    /// </summary>
    private Pop3Transport(Stream inner, Socket? socket, bool leaveOpen, TimeSpan timeout, WaitBudget budget)
    {
        _inner = inner;
        _socket = socket;
        _leaveOpen = leaveOpen;
        _timeout = timeout;
        _budget = budget;
        if (socket is not null)
        {
            SetSocketTimeouts(timeout);
            if (socket.ProtocolType == ProtocolType.Tcp)
                socket.NoDelay = true;
        }
        else
        {
            _watchdog = new StreamWatchdog(inner);
        }

        _stream = inner;
    }

    public bool IsEncrypted => _stream is SslStream { IsAuthenticated: true };

    /// <summary>The TLS stream once encryption is on, for callers that want protocol and certificate details.</summary>
    public SslStream? SslStream => _stream as SslStream;

    /// <summary>
    /// A transport over the caller's connected <paramref name="stream"/>: a <see cref="NetworkStream"/>
    /// gives us its socket (timeouts on the socket, TCP_QUICKACK); an authenticated <see cref="System.Net.Security.SslStream"/>
    /// counts as encrypted. The connection's first budget of waiting (<paramref name="commandTimeout"/>)
    /// starts now, for the TLS handshake and the greeting.
    /// </summary>
    public static Pop3Transport Over(Stream stream, bool leaveOpen, TimeSpan timeout, TimeSpan commandTimeout)
    {
        if (!stream.CanRead || !stream.CanWrite)
            throw new ArgumentException("The stream must be readable and writable (a connection to the server).", nameof(stream));
        return new Pop3Transport(stream, (stream as NetworkStream)?.Socket, leaveOpen, timeout, new WaitBudget(commandTimeout));
    }

    /// <summary>A transport over the caller's connected <paramref name="socket"/>.</summary>
    public static Pop3Transport Over(Socket socket, bool leaveOpen, TimeSpan timeout, TimeSpan commandTimeout)
    {
        if (!socket.Connected || socket.SocketType != SocketType.Stream)
            throw new ArgumentException("The socket must be a connected stream socket.", nameof(socket));
        return new Pop3Transport(new NetworkStream(socket, ownsSocket: !leaveOpen), socket, leaveOpen, timeout, new WaitBudget(commandTimeout));
    }

    public EndPoint? RemoteEndPoint => _socket?.RemoteEndPoint;

    /// <summary>
    /// Resolves <paramref name="host"/> and connects to its addresses in turn, all within one
    /// <paramref name="timeout"/>. (A synchronous name lookup cannot be bounded: the platform resolver
    /// has its own timeouts. Pass an address to avoid it.) Through a <paramref name="proxy"/>, the proxy
    /// is resolved and connected to instead, and its handshake — which hands the server's name to the
    /// proxy to resolve — shares the same timeout. Connecting is the first thing to wait in the
    /// connection's first budget of <paramref name="commandTimeout"/>; the TLS handshake and the
    /// greeting share what it leaves.
    /// </summary>
    public static async ValueTask<Pop3Transport> ConnectAsync(string host, int port, Pop3Proxy? proxy, TimeSpan timeout, TimeSpan commandTimeout, bool async, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        var budget = new WaitBudget(commandTimeout);
        TimeSpan limit = budget.NextWait(timeout, out _);
        long deadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        TargetHost? target = proxy is null ? null : TargetHost.Parse(host);
        string connectHost = proxy?.Host ?? host;
        int connectPort = proxy?.Port ?? port;
        string what = proxy is null ? "" : "the proxy ";

        Socket socket;
        try
        {
            IPAddress[] addresses = await SocketConnect.ResolveAsync(connectHost, limit, async, cancellationToken).ConfigureAwait(false);
            socket = await SocketConnect.ConnectAnyAsync(
                addresses.Select(a => new IPEndPoint(a, connectPort)), deadline, async,
                (endPoint, wait) => new TimeoutException(
                    $"Connecting to {what}{(endPoint is null ? $"{connectHost}:{connectPort}" : endPoint)} took longer than the timeout of {(endPoint is null ? limit : wait).TotalSeconds:0.###} s."),
                cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (proxy is not null)
        {
            throw new Pop3ProxyException(proxy, Pop3ProxyFailure.ProxyUnreachable, $"Cannot connect to the proxy {proxy}: {e.Message}", innerException: e);
        }

        if (proxy is not null)
        {
            try
            {
                await proxy.OpenAsync(new ProxyTunnel(socket, proxy, deadline, limit), target!, port, async, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        budget.Spend(started);
        return new Pop3Transport(new NetworkStream(socket, ownsSocket: true), socket, leaveOpen: false, timeout, budget);
    }

    public async ValueTask StartTlsAsync(SslClientAuthenticationOptions options, bool async, CancellationToken cancellationToken)
    {
        if (IsEncrypted || _stream != _inner)
            throw new InvalidOperationException("The connection is already encrypted (an SslStream given to Connect counts): TLS cannot start on it again.");
        // The recorder never closes the caller's stream when it was given with leaveOpen; ours it does.
        var recorder = new HandshakeRecorder(_inner, closeInner: !_leaveOpen);
        var ssl = new SslStream(recorder, leaveInnerStreamOpen: false);
        try
        {
            // On the sync path the socket's timeouts bound each read and write of the handshake, not all of it.
            await WaitAsync<int, Handshake>("The TLS handshake", new Handshake(ssl, options), async, cancellationToken).ConfigureAwait(false);
            recorder.StopRecording();
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            string? said = await PlainTextInsteadOfTlsAsync(recorder, async, cancellationToken).ConfigureAwait(false);
            await DisposeAsync(ssl, async).ConfigureAwait(false);
            if (said is null)
                throw;
            throw new AuthenticationException(
                $"The TLS handshake failed: the server answered in plain text, \"{said}\". The connection is closed; nothing more was sent to it.", e);
        }
        catch
        {
            await DisposeAsync(ssl, async).ConfigureAwait(false);
            throw;
        }

        _stream = ssl;
    }

    private static async ValueTask DisposeAsync(SslStream ssl, bool async)
    {
        if (async)
            await ssl.DisposeAsync().ConfigureAwait(false);
        else
            ssl.Dispose();
    }

    /// <summary>
    /// The status line a server sent in plain text where the TLS handshake should have been, escaped;
    /// or null. Courier, when it cannot go on with TLS after its <c>+OK</c> to STLS, sends an alert and,
    /// a moment later, <c>-ERR STARTTLS failed: …</c>, and goes on in plain text; a plain POP3 port
    /// answers a handshake with its greeting. A server that sent handshake messages (the failure was
    /// ours, such as a certificate we do not trust) is not waited for.
    /// </summary>
    private async ValueTask<string?> PlainTextInsteadOfTlsAsync(HandshakeRecorder recorder, bool async, CancellationToken cancellationToken)
    {
        const byte TlsHandshakeRecord = 0x16;
        var seen = new List<byte>(recorder.Recorded.ToArray());
        if (seen.Count > 0 && seen[0] == TlsHandshakeRecord)
            return null;
        if (_socket is null)
        {
            // A caller's stream cannot be polled for what may still come: what the handshake read must do.
            return StatusLine(seen) is { } said ? Diagnostics.ServerText.Escape(CollectionsMarshal.AsSpan(seen).Slice(said.Start, said.Length), maxLength: 200) : null;
        }
        long deadline = Environment.TickCount64 + (long)Math.Min(_timeout.TotalMilliseconds, PlainTextWaitMs);
        byte[] buffer = new byte[HandshakeRecorder.Capacity];
        while (StatusLine(seen) is not { Complete: true } && seen.Count < HandshakeRecorder.Capacity)
        {
            long left = deadline - Environment.TickCount64;
            int read;
            try
            {
                if (left <= 0)
                    break;
                if (async)
                {
                    using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timer.CancelAfter(TimeSpan.FromMilliseconds(left));
                    read = await _socket.ReceiveAsync(buffer, SocketFlags.None, timer.Token).ConfigureAwait(false);
                }
                else
                {
                    read = _socket.Poll(TimeSpan.FromMilliseconds(left), SelectMode.SelectRead) ? _socket.Receive(buffer) : 0;
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                break;
            }

            if (read == 0)
                break;
            seen.AddRange(buffer.AsSpan(0, read));
        }

        return StatusLine(seen) is { } line ? Diagnostics.ServerText.Escape(CollectionsMarshal.AsSpan(seen).Slice(line.Start, line.Length), maxLength: 200) : null;
    }

    /// <summary>How long a failed handshake waits for the plain text a refusing server sends after its alert.</summary>
    private const int PlainTextWaitMs = 500;

    // Where a "+OK" or "-ERR" line starts in what the server sent, its length without CRLF, and whether its end has arrived.
    private static (int Start, int Length, bool Complete)? StatusLine(List<byte> seen)
    {
        ReadOnlySpan<byte> bytes = CollectionsMarshal.AsSpan(seen);
        int ok = bytes.IndexOf("+OK"u8);
        int err = bytes.IndexOf("-ERR"u8);
        int start = ok < 0 ? err : err < 0 ? ok : Math.Min(ok, err);
        if (start < 0)
            return null;
        int end = bytes[start..].IndexOfAny((byte)'\r', (byte)'\n');
        return end < 0 ? (start, bytes.Length - start, false) : (start, end, true);
    }

    /// <summary>Re-arms TCP_QUICKACK before a read that waits for a reply (see <see cref="QuickAck"/>).</summary>
    public void ArmQuickAck()
    {
        if (!_quickAckUnavailable && _socket is not null)
            _quickAckUnavailable = !QuickAck.TryArm(_socket);
    }

    /// <summary>Starts a command's budget of waiting afresh (see <see cref="WaitBudget"/>).</summary>
    public void StartDeadline() => _budget.Restart();

    public ValueTask<int> ReadAsync(Memory<byte> buffer, bool async, CancellationToken cancellationToken) =>
        WaitAsync<int, Read>("Waiting for the server", new Read(_stream, buffer), async, cancellationToken);

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool async, CancellationToken cancellationToken) =>
        await WaitAsync<int, Write>("Sending to the server", new Write(_stream, data), async, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Runs one operation that waits for the server, sync or async, within the per-operation timeout
    /// and what is left of the command's budget, and takes the time it waited from that budget. Written
    /// once for reads, writes and the handshake; the operation is a struct, so nothing is allocated.
    /// </summary>
    private async ValueTask<T> WaitAsync<T, TOperation>(string what, TOperation operation, bool async, CancellationToken cancellationToken)
        where TOperation : struct, ITransportOperation<T>
    {
        TimeSpan wait = NextWait(what, out bool byDeadline);
        long started = Stopwatch.GetTimestamp();
        if (_watchdog is not null)
            return await WatchedAsync<T, TOperation>(what, operation, wait, byDeadline, started, async, cancellationToken).ConfigureAwait(false);
        try
        {
            if (!async)
            {
                SetSocketTimeouts(wait);
                try
                {
                    return operation.Run();
                }
                catch (IOException e) when (IsSocketTimeout(e))
                {
                    throw Expired(what, byDeadline, e);
                }
            }

            CancellationToken token = StartTimer(wait, cancellationToken, out var registration);
            try
            {
                return await operation.RunAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e)
            {
                throw Canceled(e, what, byDeadline, cancellationToken);
            }
            finally
            {
                StopTimer(registration);
            }
        }
        finally
        {
            _budget.Spend(started);
        }
    }

    /// <summary>
    /// <see cref="WaitAsync"/> on a caller's stream without a socket we can reach: the watchdog bounds
    /// the wait on both paths (closing the stream when it expires), and the async path's token asks a
    /// stream that honours cancellation to stop first.
    /// </summary>
    private async ValueTask<T> WatchedAsync<T, TOperation>(string what, TOperation operation, TimeSpan wait, bool byDeadline, long started, bool async, CancellationToken cancellationToken)
        where TOperation : struct, ITransportOperation<T>
    {
        _watchdog!.Arm(wait);
        CancellationTokenRegistration registration = default;
        try
        {
            T result = async
                ? await operation.RunAsync(StartTimer(wait, cancellationToken, out registration)).ConfigureAwait(false)
                : operation.Run();
            return _watchdog.Disarm() ? throw Expired(what, byDeadline, new ObjectDisposedException(what)) : result;
        }
        catch (Exception e) when (_watchdog.Disarm() && e is not TimeoutException)
        {
            throw Expired(what, byDeadline, e);
        }
        catch (OperationCanceledException e) when (async)
        {
            throw Canceled(e, what, byDeadline, cancellationToken);
        }
        finally
        {
            if (async)
                StopTimer(registration);
            _budget.Spend(started);
        }
    }

    // How long the next operation may wait; the deadline's TimeoutException once the budget is spent.
    private TimeSpan NextWait(string what, out bool byDeadline)
    {
        TimeSpan wait = _budget.NextWait(_timeout, out byDeadline);
        return wait > TimeSpan.Zero ? wait : throw DeadlineExpired(what);
    }

    // The sync path's bound: the socket's own timeouts, in whole milliseconds and at least 1 (0 would
    // mean none). Set only when they change, which is only near a command's deadline.
    private void SetSocketTimeouts(TimeSpan wait)
    {
        int ms = (int)Math.Max(1, Math.Ceiling(wait.TotalMilliseconds));
        if (ms == _socketTimeoutMs || _socket is null)
            return;
        _socket.ReceiveTimeout = ms;
        _socket.SendTimeout = ms;
        _socketTimeoutMs = ms;
    }

    // One timer per connection, re-armed for each async operation: a CancellationTokenSource per
    // read would allocate on the body path.
    private CancellationToken StartTimer(TimeSpan wait, CancellationToken cancellationToken, out CancellationTokenRegistration registration)
    {
        _timer.CancelAfter(wait);
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
    private Exception Canceled(OperationCanceledException e, string what, bool byDeadline, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested
            ? new OperationCanceledException($"{what} was cancelled; the connection is closed.", e, cancellationToken)
            : Expired(what, byDeadline, e);

    private TimeoutException Expired(string what, bool byDeadline, Exception inner) =>
        byDeadline ? DeadlineExpired(what, inner) : new($"{what} took longer than the timeout of {_timeout.TotalSeconds:0.###} s; the connection is closed.", inner);

    private TimeoutException DeadlineExpired(string what, Exception? inner = null) =>
        new($"{what} went past the command's deadline: {_budget.Total.TotalSeconds:0.###} s of waiting for the server in all (Pop3ClientOptions.CommandTimeout); the connection is closed.", inner);

    private static bool IsSocketTimeout(IOException e) =>
        e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock };

    /// <summary>
    /// Closes the connection: the TLS stream (which closes ours under it), and the stream and socket
    /// we own — not the caller's, when it was given with leaveOpen.
    /// </summary>
    public void Dispose()
    {
        if (_stream != _inner)
            _stream.Dispose();
        if (!_leaveOpen)
            _inner.Dispose();
        _watchdog?.Dispose();
        _timer.Dispose();
    }
}
