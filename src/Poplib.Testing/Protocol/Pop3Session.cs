using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Poplib.Testing.Faults;
using Poplib.Testing.Hosting;

namespace Poplib.Testing.Protocol;

/// <summary>
/// One client connection, from greeting to close: reads commands as they come (pipelined or not),
/// answers them in order, and flushes when no further command is buffered. The faults of the server
/// are applied here, at fixed points of the loop, by the <see cref="FaultInterpreter"/>.
/// </summary>
internal sealed partial class Pop3Session
{
    private readonly ServerContext _server;
    private readonly Pop3TestServerOptions _options;
    private readonly Socket _socket;
    private readonly FaultInterpreter _faults;
    private readonly CommandReader _reader;
    private readonly ReplyWriter _writer;
    private readonly CancellationToken _shutdown;
    private SslStream? _tls;
    private SessionState _state = SessionState.Authorization;
    private string? _apopTimestamp;
    private bool _utf8;

    public Pop3Session(ServerContext server, Socket socket)
    {
        _server = server;
        _options = server.Options;
        _socket = socket;
        _shutdown = server.Shutdown;
        _faults = new FaultInterpreter(server.Faults, server.FaultMemory);
        _reader = new CommandReader(_options.MaxLineLength);
        _writer = new ReplyWriter(_faults.LineEnding, _options.WriteTimeout, _shutdown) { FlushAfterStatus = _faults.SplitsReplies };
        if (_faults.SplitsReplies)
            socket.NoDelay = false; // Nagle on, as the servers that split their replies have it
        var stream = new NetworkStream(socket, ownsSocket: false);
        _reader.Stream = stream;
        _writer.Stream = stream;
    }

    [Flags]
    private enum SessionState
    {
        Authorization = 1,
        Transaction = 2,
        Closed = 4,
    }

    private bool IsEncrypted => _tls is not null;

    /// <summary>Serves the connection until the client quits or goes away; <paramref name="admitted"/> false answers "too many connections".</summary>
    public async Task RunAsync(bool admitted)
    {
        try
        {
            await ServeAsync(admitted).ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectionEnd(e))
        {
            // The client went away, a timeout or a fault cut the connection, or the server is stopping.
        }
        catch (Exception e)
        {
            _server.ReportError(e);
        }
        finally
        {
            await EndAsync().ConfigureAwait(false);
        }
    }

    private async Task ServeAsync(bool admitted)
    {
        if (_options.Tls == Pop3TlsMode.Implicit)
            await StartTlsAsync().ConfigureAwait(false);

        await DelayReplyAsync().ConfigureAwait(false);
        if (!admitted)
        {
            await _writer.LineAsync("-ERR [SYS/TEMP] too many connections").ConfigureAwait(false);
            await _writer.FlushAsync().ConfigureAwait(false);
            return;
        }

        string greeting = _faults.ShapeGreeting(_options.Greeting.Replace(
            Pop3TestServerOptions.TimestampPlaceholder, ApopTimestamp.Create(_options.HostName), StringComparison.Ordinal));
        _apopTimestamp = ApopTimestamp.Find(greeting);
        await _writer.LineAsync(greeting).ConfigureAwait(false);
        await _writer.FlushAsync().ConfigureAwait(false);

        try
        {
            while (_state != SessionState.Closed && await ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                Pop3Request request = Pop3Request.Parse(line);
                await DelayReplyAsync().ConfigureAwait(false);
                SessionState before = _state;
                _writer.BeginReply(status => _faults.ShapeStatus(request, status));
                if (_faults.Intercept(request) is { } forced)
                    await _writer.LineAsync(forced).ConfigureAwait(false);
                else
                    await DispatchAsync(request).ConfigureAwait(false);
                if (before == SessionState.Authorization && _state == SessionState.Transaction)
                    _faults.OnLoggedIn(_reader);
                if (_faults.EndsSessionAfter(_writer.LastStatus))
                    _state = SessionState.Closed; // dropped without UPDATE: nothing is committed

                // PIPELINING (RFC 2449): answer what is buffered first, then flush once.
                if (!_reader.HasBufferedInput)
                    await _writer.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (CommandTooLongException)
        {
            await _writer.LineAsync($"-ERR Command line too long (the limit is {_options.MaxLineLength} octets).").ConfigureAwait(false);
        }

        await _writer.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Reads the next command; at the idle timeout says so and returns null (RFC 1939's autologout).</summary>
    private async ValueTask<CommandLine?> ReadLineAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_shutdown);
        timeout.CancelAfter(_options.IdleTimeout);
        try
        {
            return await _reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_shutdown.IsCancellationRequested)
        {
            // Closed here, wherever the session was waiting (a command, or a SASL response), so no
            // caller can go on serving after the autologout.
            _state = SessionState.Closed;
            await _writer.LineAsync("-ERR Disconnected for inactivity.").ConfigureAwait(false);
            return null;
        }
    }

    private async ValueTask DelayReplyAsync()
    {
        TimeSpan delay = _faults.ReplyDelay;
        if (delay > TimeSpan.Zero)
        {
            await _writer.FlushAsync().ConfigureAwait(false); // the replies before this one are not late
            await Task.Delay(delay, _shutdown).ConfigureAwait(false);
        }
    }

    private async ValueTask StartTlsAsync()
    {
        var tls = new SslStream(_writer.Stream, leaveInnerStreamOpen: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_shutdown);
        timeout.CancelAfter(_options.HandshakeTimeout);
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _server.Certificate }, timeout.Token).ConfigureAwait(false);
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _tls = tls;
        _reader.Stream = tls;
        _writer.Stream = tls;
    }

    /// <summary>
    /// Leaves the session: RFC 1939 commits deletions only after QUIT (done there), so a dropped
    /// connection keeps every message — unless a <see cref="DeleteOnDisconnect"/> fault says otherwise.
    /// </summary>
    private async ValueTask EndAsync()
    {
        if (_state == SessionState.Transaction && _faults.CommitOnDisconnect)
        {
            try
            {
                await CommitAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Whatever the mailbox throws, the lock and the socket below must be released.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _server.ReportError(e);
            }
        }

        _state = SessionState.Closed;
        ReleaseMailbox();
        try
        {
            // A FIN rather than a reset, so the client reads everything sent before the close.
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }

        if (_tls is not null)
            await _tls.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }

    private static bool IsConnectionEnd(Exception e) =>
        e is IOException or SocketException or AuthenticationException or OperationCanceledException or ObjectDisposedException or ConnectionCutException;
}

/// <summary>Thrown to drop a connection mid-reply, as the <see cref="DisconnectAfterBytes"/> fault wants.</summary>
internal sealed class ConnectionCutException() : Exception("The connection was cut by an injected fault.");
