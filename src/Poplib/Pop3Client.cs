using System.Diagnostics;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Poplib.Certificates;
using Poplib.Diagnostics;
using Poplib.Engine;

namespace Poplib;

/// <summary>
/// A POP3 session (RFC 1939) — Python's <c>poplib.POP3</c> and <c>POP3_SSL</c> in one type. Create one
/// with <see cref="Connect(string, int, Pop3ClientOptions?)"/> or
/// <see cref="ConnectSsl(string, int, Pop3ClientOptions?)"/>; every command has a synchronous form and an
/// asynchronous <c>…Async</c> form that takes a <see cref="CancellationToken"/>. One command runs at a
/// time. Disposing without <see cref="Quit"/> closes the connection without committing deletions.
/// </summary>
public sealed partial class Pop3Client : IDisposable, IAsyncDisposable
{
    private readonly Pop3Connection _connection;
    private readonly Pop3ClientOptions _options;
    private Pop3SessionState _state = Pop3SessionState.Authorization;
    private int _busy;

    // What bounds the message numbers of a listing: STAT's count plus the messages deleted before it.
    private int? _highestMessageNumber;
    private int _deletedInSession;

    private Pop3Client(Pop3Connection connection, string host, int port, Pop3ClientOptions options)
    {
        _connection = connection;
        _options = options;
        Host = host;
        Port = port;
        connection.Owner = this;
    }

    /// <summary>The host name or address this client connected to.</summary>
    public string Host { get; }

    /// <summary>The TCP port this client connected to (the server's, also through a proxy); 0 over a caller's stream that is not a socket.</summary>
    public int Port { get; }

    /// <summary>The server's greeting line, <c>+OK …</c> included (poplib's <c>getwelcome()</c>).</summary>
    public string Welcome => Greeting.Line;

    /// <summary>The server's greeting as a parsed reply.</summary>
    public Pop3Response Greeting { get; private set; } = null!;

    /// <summary>
    /// The APOP timestamp in the greeting (<c>&lt;…@…&gt;</c>, an RFC 5322 msg-id as RFC 1939 requires), or
    /// <see langword="null"/> when the server offers no APOP — or offers it with a timestamp of another
    /// shape, which is never hashed (<see cref="Apop"/> says why; <see cref="Welcome"/> still holds it).
    /// </summary>
    public string? ApopTimestamp { get; private set; }

    /// <summary>
    /// The server's capabilities as last read (at connect, after STLS and after login, unless
    /// <see cref="Pop3ClientOptions.QueryCapabilities"/> is off; or by <see cref="Capa"/>).
    /// <see cref="Pop3Capabilities.None"/> when the server does not support CAPA.
    /// </summary>
    public Pop3Capabilities Capabilities { get; private set; } = Pop3Capabilities.None;

    /// <summary>The session state; <see cref="Pop3SessionState.Closed"/> once the connection is gone.</summary>
    public Pop3SessionState State => _connection.IsOpen ? _state : Pop3SessionState.Closed;

    /// <summary>Whether the session is authenticated (in the TRANSACTION state).</summary>
    public bool IsAuthenticated => State == Pop3SessionState.Transaction;

    /// <summary>
    /// How the session logged in — <c>USER/PASS</c>, <c>APOP</c>, <c>RPOP</c> or <c>AUTH</c> and the SASL
    /// mechanism, e.g. <c>AUTH SCRAM-SHA-256</c> — or <see langword="null"/> before login. Useful after
    /// <see cref="Login(string, string)"/>, which chooses by itself.
    /// </summary>
    public string? AuthenticationMethod { get; private set; }

    /// <summary>The server's TLS certificate, or <see langword="null"/> on a plain connection.</summary>
    public X509Certificate? RemoteCertificate => _connection.SslStream?.RemoteCertificate;

    /// <summary>
    /// The server's certificate first, then the rest of its chain as the handshake checked it (up to the
    /// root that vouched for it); empty on a plain connection. For a certificate that was refused, see
    /// <see cref="Pop3CertificateException.Chain"/>. <see cref="CertificatePin.ForPublicKey"/> gives its pins.
    /// </summary>
    public IReadOnlyList<X509Certificate2> ServerCertificateChain => _connection.CertificateChain;

    /// <summary>Whether the connection is open (not quit, disposed or broken by an error).</summary>
    public bool IsConnected => _connection.IsOpen;

    /// <summary>Whether the connection is encrypted (implicit TLS or after <see cref="Stls"/>).</summary>
    public bool IsEncrypted => _connection.IsEncrypted;

    /// <summary>The negotiated TLS protocol, or <see cref="SslProtocols.None"/> on a plain connection.</summary>
    public SslProtocols SslProtocol => _connection.SslStream?.SslProtocol ?? SslProtocols.None;

    /// <summary>Whether UTF-8 mode is on (after a successful <see cref="Utf8"/>).</summary>
    public bool IsUtf8 => _connection.Utf8Mode;

    /// <summary>
    /// poplib's <c>set_debuglevel</c>: 0 silent, 1 one line per command and reply, 2 also every listing
    /// line and a size line per message body. Goes to <see cref="Pop3ClientOptions.DebugWriter"/>
    /// (standard error by default). Passwords and other secrets are always masked.
    /// </summary>
    public int DebugLevel
    {
        get => _connection.Transcript.DebugLevel;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _connection.Transcript.DebugLevel = value;
        }
    }

    /// <summary>The check of the server's certificate for a TLS handshake (implicit or STLS), under these options' trust and pins.</summary>
    private CertificateValidation CertificateCheck(SslClientAuthenticationOptions? sslOptions) =>
        CertificateValidation.Prepare(Host, sslOptions, _options.TrustedCertificates, [.. _options.PinnedCertificates]);

    /// <summary>The in-memory message limit this client connected with (<see cref="Pop3ClientOptions.MaxInMemoryMessageSize"/>), for the packages that build on it.</summary>
    internal long MaxInMemoryMessageSize => _options.MaxInMemoryMessageSize;

    /// <summary>
    /// Closes the connection without QUIT: deletions marked in this session are not committed. A
    /// command running on another thread fails with an <see cref="IOException"/> or
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose() => _connection.Dispose(commandInFlight: Volatile.Read(ref _busy) != 0);

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Marks the client busy for one command (one at a time), checks the session state the command
    /// needs, and traces the command. Disposing the scope ends the command.
    /// </summary>
    private CommandScope Begin(string verb, Pop3SessionState? requiredState = null)
    {
        _connection.ThrowIfClosed();
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException("Another command is in progress on this Pop3Client, or a message stream from OpenRetr/OpenTop is still open. A client runs one command at a time.");
        if (requiredState is { } required && _state != required)
        {
            Volatile.Write(ref _busy, 0);
            throw new InvalidOperationException(required == Pop3SessionState.Transaction
                ? $"{verb} needs an authenticated session: log in first."
                : $"{verb} is only allowed before authentication.");
        }

        Activity? activity = Pop3Diagnostics.ActivitySource.StartActivity("pop3.command", ActivityKind.Client);
        activity?.SetTag("pop3.command", verb);
        activity?.SetTag("server.address", Host);
        activity?.SetTag("server.port", Port);
        return new CommandScope(this, activity);
    }

    private readonly struct CommandScope(Pop3Client client, Activity? activity) : IDisposable
    {
        public void Dispose()
        {
            // A command that ends with its reply only partly read (an exception from the caller's
            // stream, a cancellation, an out-of-memory) would leave the rest of the reply to be read
            // as the next command's: whoever can send mail could then forge replies. Close instead.
            if (client._connection.InBody)
                client._connection.Abandon("a command ended before its reply was read to the end");
            activity?.Dispose();
            Volatile.Write(ref client._busy, 0);
        }
    }

    // The one bridge from the shared code path to the sync API: with async=false every awaited
    // operation completes synchronously, so the task is already done — never sync-over-async.
    private static T RunSync<T>(ValueTask<T> task)
    {
        Debug.Assert(task.IsCompleted, "The synchronous path must complete synchronously.");
        return task.GetAwaiter().GetResult();
    }

    private static void RunSync(ValueTask task)
    {
        Debug.Assert(task.IsCompleted, "The synchronous path must complete synchronously.");
        task.GetAwaiter().GetResult();
    }

    private static void ValidateMessageNumber(int number, string parameterName = "number") =>
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1, parameterName);
}
