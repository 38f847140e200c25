using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Poplib.Diagnostics;
using Poplib.Transport;

namespace Poplib;

// Sessions over a connection the caller made: a stream (a tunnel, an SSH channel, a pipe to a
// command, a test double) or a socket. What applies to which:
//   Socket, or NetworkStream (its Socket is public): everything — each read and write bounded by the
//     socket's timeouts (sync) or a timer (async), TCP_QUICKACK re-armed before each reply on Linux,
//     Nagle off; the socket's ReceiveTimeout, SendTimeout and NoDelay are changed.
//   Any other Stream: timeouts by a watchdog that closes the stream when a wait expires (a blocking
//     read on an arbitrary stream can be stopped no other way), plus the cancellation token on the
//     async path; no TCP_QUICKACK (there is no socket to set it on).
// TLS (ConnectSsl, Stls) runs over either in an SslStream of ours. An SslStream the caller already
// authenticated counts as encrypted. leaveOpen decides who closes the caller's object, as SslStream's
// leaveInnerStreamOpen does.
public sealed partial class Pop3Client
{
    /// <summary>
    /// Starts a session over a connection the caller has made (a tunnel, an SSH channel, a test double)
    /// and reads the greeting. <paramref name="host"/> is the server's name: for the certificate check of a
    /// later <see cref="Stls"/>, and for <see cref="Host"/>. A <see cref="NetworkStream"/> is treated as
    /// its socket (socket timeouts, TCP_QUICKACK); any other stream's waits are bounded by closing it when
    /// they expire. With <paramref name="leaveOpen"/> the client never closes <paramref name="stream"/>
    /// itself except to stop a read that timed out; by default it closes it when disposed or broken.
    /// <see cref="Pop3ClientOptions.Proxy"/> must be null: the stream is already connected.
    /// </summary>
    /// <exception cref="ArgumentException">The stream cannot both read and write, or a proxy is set.</exception>
    public static Pop3Client Connect(Stream stream, string host, Pop3ClientOptions? options = null, bool leaveOpen = false) =>
        RunSync(ConnectOverCoreAsync(stream, host, implicitTls: false, options, leaveOpen, async: false, CancellationToken.None));

    /// <inheritdoc cref="Connect(Stream, string, Pop3ClientOptions?, bool)"/>
    public static Task<Pop3Client> ConnectAsync(Stream stream, string host, Pop3ClientOptions? options = null, bool leaveOpen = false, CancellationToken cancellationToken = default) =>
        ConnectOverCoreAsync(stream, host, implicitTls: false, options, leaveOpen, async: true, cancellationToken).AsTask();

    /// <summary>
    /// Starts TLS over a connection the caller has made (implicit TLS, as on port 995), verifying the
    /// certificate against <paramref name="host"/>, and reads the greeting. Otherwise as
    /// <see cref="Connect(Stream, string, Pop3ClientOptions?, bool)"/>.
    /// </summary>
    public static Pop3Client ConnectSsl(Stream stream, string host, Pop3ClientOptions? options = null, bool leaveOpen = false) =>
        RunSync(ConnectOverCoreAsync(stream, host, implicitTls: true, options, leaveOpen, async: false, CancellationToken.None));

    /// <inheritdoc cref="ConnectSsl(Stream, string, Pop3ClientOptions?, bool)"/>
    public static Task<Pop3Client> ConnectSslAsync(Stream stream, string host, Pop3ClientOptions? options = null, bool leaveOpen = false, CancellationToken cancellationToken = default) =>
        ConnectOverCoreAsync(stream, host, implicitTls: true, options, leaveOpen, async: true, cancellationToken).AsTask();

    /// <summary>
    /// Starts a session over a socket the caller has connected, and reads the greeting. The socket's
    /// timeouts and TCP_QUICKACK work as on a connection of the client's own. With
    /// <paramref name="leaveOpen"/> the client never closes the socket; by default it does when disposed or broken.
    /// </summary>
    /// <exception cref="ArgumentException">The socket is not a connected stream socket, or a proxy is set.</exception>
    public static Pop3Client Connect(Socket socket, string host, Pop3ClientOptions? options = null, bool leaveOpen = false) =>
        RunSync(ConnectOverCoreAsync(socket, host, implicitTls: false, options, leaveOpen, async: false, CancellationToken.None));

    /// <inheritdoc cref="Connect(Socket, string, Pop3ClientOptions?, bool)"/>
    public static Task<Pop3Client> ConnectAsync(Socket socket, string host, Pop3ClientOptions? options = null, bool leaveOpen = false, CancellationToken cancellationToken = default) =>
        ConnectOverCoreAsync(socket, host, implicitTls: false, options, leaveOpen, async: true, cancellationToken).AsTask();

    /// <summary>Starts TLS over a socket the caller has connected (implicit TLS), and reads the greeting.</summary>
    public static Pop3Client ConnectSsl(Socket socket, string host, Pop3ClientOptions? options = null, bool leaveOpen = false) =>
        RunSync(ConnectOverCoreAsync(socket, host, implicitTls: true, options, leaveOpen, async: false, CancellationToken.None));

    /// <inheritdoc cref="ConnectSsl(Socket, string, Pop3ClientOptions?, bool)"/>
    public static Task<Pop3Client> ConnectSslAsync(Socket socket, string host, Pop3ClientOptions? options = null, bool leaveOpen = false, CancellationToken cancellationToken = default) =>
        ConnectOverCoreAsync(socket, host, implicitTls: true, options, leaveOpen, async: true, cancellationToken).AsTask();

    // One path for a stream and a socket: the transport is made over whichever was given.
    private static async ValueTask<Pop3Client> ConnectOverCoreAsync(object connection, string host, bool implicitTls, Pop3ClientOptions? userOptions, bool leaveOpen, bool async, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        Pop3ClientOptions options = Prepare(userOptions);
        if (options.Proxy is not null)
            throw new ArgumentException("Pop3ClientOptions.Proxy applies to Connect(host, port): a stream or socket given to Connect is already connected.", nameof(userOptions));

        Pop3Transport transport = connection is Socket socket
            ? Pop3Transport.Over(socket, leaveOpen, options.Timeout, options.CommandTimeout)
            : Pop3Transport.Over((Stream)connection, leaveOpen, options.Timeout, options.CommandTimeout);
        int port = transport.RemoteEndPoint is IPEndPoint remote ? remote.Port : 0;
        Pop3Diagnostics.OnConnect(host, port, implicitTls);
        using Activity? activity = StartConnectActivity(host, port);
        return await StartSessionAsync(transport, host, port, implicitTls, options, async, cancellationToken).ConfigureAwait(false);
    }
}
