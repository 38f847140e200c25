using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Poplib.Testing.Hosting;
using Poplib.Testing.Protocol;
using Poplib.Testing.Tls;

namespace Poplib.Testing;

/// <summary>
/// An in-process POP3 server for tests (RFC 1939 with CAPA, RESP-CODES, STLS, implicit TLS, APOP,
/// AUTH PLAIN, UTF8 and PIPELINING). Start one with <see cref="Start"/>, add users with
/// <see cref="AddUser"/>, point a client at <see cref="EndPoint"/>, and inject misbehaviour with
/// <see cref="Pop3TestServerOptions.Faults"/>. Disposing stops listening, closes every session and
/// waits for them to end.
/// </summary>
public sealed class Pop3TestServer : IAsyncDisposable, IDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ServerContext _context;
    private readonly ConcurrentDictionary<long, Task> _sessions = new();
    private readonly Task _acceptLoop;
    private long _nextSessionId;
    private int _activeSessions;
    private int _disposed;

    private Pop3TestServer(Pop3TestServerOptions options)
    {
        if (options.SaslMechanisms.HasFlag(Pop3SaslMechanisms.Ntlm))
            NtlmUserFile.RequirePath(); // fails now, with the reason, rather than at the first AUTH NTLM
        Certificate = options.Certificate ?? SelfSignedCertificate.ForLocalhost;
        _context = new ServerContext(options, Certificate, _shutdown.Token);
        _listener = new Socket(options.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (options.Address.Equals(IPAddress.IPv6Any))
                _listener.DualMode = true;
            _listener.Bind(new IPEndPoint(options.Address, options.Port));
            _listener.Listen(512);
        }
        catch
        {
            _listener.Dispose();
            _shutdown.Dispose();
            throw;
        }

        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The address and port the server listens on.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The port the server listens on (the free one chosen when the options said 0).</summary>
    public int Port => EndPoint.Port;

    /// <summary>
    /// The server's TLS certificate: the one in the options, or a self-signed one for CN=localhost
    /// (SANs localhost, 127.0.0.1, ::1) that a client can trust as its only root.
    /// </summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The number of sessions now open (connections turned away by <see cref="Pop3TestServerOptions.MaxConnections"/> do not count).</summary>
    public int ActiveSessions => Volatile.Read(ref _activeSessions);

    /// <summary>
    /// The faults applied to sessions that start from now on (sessions already open keep theirs).
    /// Starts as <see cref="Pop3TestServerOptions.Faults"/>.
    /// </summary>
    public IReadOnlyList<Pop3Fault> Faults
    {
        get => _context.Faults;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Any(f => f is null))
                throw new ArgumentException("A fault cannot be null.", nameof(value));
            foreach (Pop3Fault fault in value)
                fault.Validate();
            _context.Faults = [.. value];
        }
    }

    /// <summary>
    /// Unexpected errors inside sessions (a mailbox that threw, a bug); a client going away is not an
    /// error. Tests can assert this is empty. Keeps the first 100.
    /// </summary>
    public IReadOnlyList<Exception> Errors => _context.Errors;

    /// <summary>Binds and starts accepting connections; returns at once.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="SocketException">The address or port cannot be bound.</exception>
    public static Pop3TestServer Start(Pop3TestServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new Pop3TestServer(options.Validate());
    }

    /// <summary>
    /// Binds and starts accepting connections. The same as <see cref="Start"/>, but the first call in a
    /// process (which generates the self-signed certificate) does not block the caller.
    /// </summary>
    public static Task<Pop3TestServer> StartAsync(Pop3TestServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        Pop3TestServerOptions validated = options.Validate();
        return Task.Run(() => new Pop3TestServer(validated), cancellationToken);
    }

    /// <summary>Adds a user, or replaces the one with the same name. Allowed while the server runs; later logins see it.</summary>
    public Pop3TestUser AddUser(string name, string password, IPop3Mailbox mailbox)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(mailbox);
        if (name.AsSpan().IndexOfAny(" \r\n\0") >= 0)
            throw new ArgumentException("A user name cannot contain spaces, CR, LF or NUL.", nameof(name));
        if (password.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            throw new ArgumentException("A password cannot contain CR, LF or NUL.", nameof(password));
        if (_context.Options.SaslMechanisms.HasFlag(Pop3SaslMechanisms.Ntlm))
            NtlmUserFile.Add(_context.Options.NtlmDomain, name, password);
        return _context.AddUser(new Pop3TestUser(name, password, mailbox));
    }

    private async Task AcceptLoopAsync()
    {
        while (!_shutdown.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_shutdown.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || (e is SocketException && _shutdown.IsCancellationRequested))
            {
                return;
            }
            catch (SocketException)
            {
                continue; // a connection reset before it was accepted
            }

            // Replies are written whole; Nagle would only delay the last segment of each.
            socket.NoDelay = true;
            long id = Interlocked.Increment(ref _nextSessionId);
            Task session = Task.Run(() => RunSessionAsync(socket));
            _sessions[id] = session;
            // Removed by a continuation, which cannot run before the task was added.
            _ = session.ContinueWith(_ => _sessions.TryRemove(id, out Task? _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task RunSessionAsync(Socket socket)
    {
        bool admitted = Interlocked.Increment(ref _activeSessions) <= _context.Options.MaxConnections;
        if (!admitted)
            Interlocked.Decrement(ref _activeSessions);
        try
        {
            await new Pop3Session(_context, socket).RunAsync(admitted).ConfigureAwait(false);
        }
        finally
        {
            if (admitted)
                Interlocked.Decrement(ref _activeSessions);
        }
    }

    /// <summary>Stops listening, closes every session (without committing their deletions) and waits for them to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _shutdown.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        // A session added by the accept loop's last iteration is in the dictionary by now.
        await Task.WhenAll(_sessions.Values).ConfigureAwait(false);
        _shutdown.Dispose();
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
