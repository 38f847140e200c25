using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Authentication;

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
    private const int IpProtoTcp = 6;
    private const int TcpQuickAck = 12;

    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly TimeSpan _timeout;
    private WaitBudget _budget;
    private int _socketTimeoutMs;
    private CancellationTokenSource _timer = new();
    private Stream _stream;
    private bool _quickAckUnavailable = !OperatingSystem.IsLinux();

    private Pop3Transport(Socket socket, TimeSpan timeout, WaitBudget budget)
    {
        _socket = socket;
        _timeout = timeout;
        _budget = budget;
        SetSocketTimeouts(timeout);
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
    /// has its own timeouts. Pass an address to avoid it.) Connecting is the first thing to wait in
    /// the connection's first budget of <paramref name="commandTimeout"/>; the TLS handshake and the
    /// greeting share what it leaves.
    /// </summary>
    public static async ValueTask<Pop3Transport> ConnectAsync(string host, int port, TimeSpan timeout, TimeSpan commandTimeout, bool async, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        var budget = new WaitBudget(commandTimeout);
        TimeSpan limit = budget.NextWait(timeout, out _);
        long deadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        IPAddress[] addresses = await SocketConnect.ResolveAsync(host, limit, async, cancellationToken).ConfigureAwait(false);

        Socket socket = await SocketConnect.ConnectAnyAsync(
            addresses.Select(a => new IPEndPoint(a, port)), deadline, async,
            (endPoint, wait) => endPoint is null
                ? new TimeoutException($"Connecting to {host}:{port} took longer than the timeout of {limit.TotalSeconds:0.###} s.")
                : ConnectTimeout(endPoint, wait),
            cancellationToken).ConfigureAwait(false);
        budget.Spend(started);
        return new Pop3Transport(socket, timeout, budget);
    }

    private static TimeoutException ConnectTimeout(EndPoint endPoint, TimeSpan timeout) =>
        new($"Connecting to {endPoint} took longer than the timeout of {timeout.TotalSeconds:0.###} s.");

    public async ValueTask StartTlsAsync(SslClientAuthenticationOptions options, bool async, CancellationToken cancellationToken)
    {
        var recorder = new HandshakeRecorder(_network);
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
        if (ms == _socketTimeoutMs)
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

    public void Dispose()
    {
        _stream.Dispose();
        _network.Dispose();
        _timer.Dispose();
    }
}
