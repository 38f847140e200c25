using System.Diagnostics;
using Poplib.Commands;
using Poplib.Diagnostics;
using Poplib.Engine;
using Poplib.Transport;

namespace Poplib;

public sealed partial class Pop3Client
{
    /// <summary>
    /// Connects to a POP3 server and reads its greeting (poplib's <c>POP3(host, port, timeout)</c>).
    /// The connection is not encrypted until <see cref="Stls"/>; logging in is refused on it unless
    /// <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/> is set.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The port, the timeout or a limit is out of range.</exception>
    /// <exception cref="Pop3CommandException">The server's greeting was <c>-ERR</c>.</exception>
    public static Pop3Client Connect(string host, int port = Pop3ClientOptions.DefaultPort, Pop3ClientOptions? options = null) =>
        RunSync(ConnectCoreAsync(host, port, implicitTls: false, options, async: false, CancellationToken.None));

    /// <inheritdoc cref="Connect(string, int, Pop3ClientOptions?)"/>
    public static Task<Pop3Client> ConnectAsync(string host, int port = Pop3ClientOptions.DefaultPort, Pop3ClientOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectCoreAsync(host, port, implicitTls: false, options, async: true, cancellationToken).AsTask();

    /// <summary>
    /// Connects with TLS from the first byte (POP3S, poplib's <c>POP3_SSL</c>) and reads the greeting.
    /// The server's certificate and host name are verified unless
    /// <see cref="Pop3ClientOptions.SslOptions"/> says otherwise.
    /// </summary>
    /// <exception cref="System.Security.Authentication.AuthenticationException">The TLS handshake or the certificate check failed.</exception>
    public static Pop3Client ConnectSsl(string host, int port = Pop3ClientOptions.DefaultSslPort, Pop3ClientOptions? options = null) =>
        RunSync(ConnectCoreAsync(host, port, implicitTls: true, options, async: false, CancellationToken.None));

    /// <inheritdoc cref="ConnectSsl(string, int, Pop3ClientOptions?)"/>
    public static Task<Pop3Client> ConnectSslAsync(string host, int port = Pop3ClientOptions.DefaultSslPort, Pop3ClientOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectCoreAsync(host, port, implicitTls: true, options, async: true, cancellationToken).AsTask();

    private static async ValueTask<Pop3Client> ConnectCoreAsync(string host, int port, bool implicitTls, Pop3ClientOptions? userOptions, bool async, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Pop3ClientOptions options = Prepare(userOptions);

        Pop3Diagnostics.OnConnect(host, port, implicitTls);
        using Activity? activity = StartConnectActivity(host, port);
        Pop3Transport transport = await Pop3Transport.ConnectAsync(host, port, options.Proxy, options.Timeout, options.CommandTimeout, async, cancellationToken).ConfigureAwait(false);
        return await StartSessionAsync(transport, host, port, implicitTls, options, async, cancellationToken).ConfigureAwait(false);
    }

    private static Pop3ClientOptions Prepare(Pop3ClientOptions? userOptions)
    {
        Pop3ClientOptions options = userOptions?.Clone() ?? new Pop3ClientOptions();
        options.Validate();
        return options;
    }

    private static Activity? StartConnectActivity(string host, int port)
    {
        Activity? activity = Pop3Diagnostics.ActivitySource.StartActivity("pop3.connect", ActivityKind.Client);
        activity?.SetTag("server.address", host);
        activity?.SetTag("server.port", port);
        return activity;
    }

    /// <summary>
    /// The session on a connected transport: TLS first when <paramref name="implicitTls"/>, then the
    /// greeting and the capabilities. The client owns the transport from here, and closes it on failure.
    /// </summary>
    private static async ValueTask<Pop3Client> StartSessionAsync(Pop3Transport transport, string host, int port, bool implicitTls, Pop3ClientOptions options, bool async, CancellationToken cancellationToken)
    {
        var transcript = new Pop3Transcript(options.DebugLevel, options.DebugWriter, options.Logger);
        var connection = new Pop3Connection(transport, options, transcript);
        var client = new Pop3Client(connection, host, port, options);
        try
        {
            if (options.Proxy is { } proxy)
                transcript.Note($"through the proxy {proxy}");
            if (implicitTls)
                await connection.StartTlsAsync(client.CertificateCheck(options.SslOptions), async, cancellationToken).ConfigureAwait(false);
            transcript.Connected(host, port, implicitTls);

            Pop3Response greeting = await connection.ReadResponseAsync(async, cancellationToken).ConfigureAwait(false);
            if (!greeting.IsOk)
                throw new Pop3CommandException("the greeting", greeting);
            client.Greeting = greeting;
            client.ApopTimestamp = ApopDigest.FindTimestamp(greeting.Line);

            if (options.QueryCapabilities)
                await client.ReadCapabilitiesAsync(async, cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}
