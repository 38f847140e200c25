using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>
/// An LMTP client (RFC 2033): connects to a server over TCP or a Unix socket, says LHLO, and then
/// delivers messages one after another on the same connection, each to one or more recipients, with
/// a result per recipient. Not thread-safe: one message at a time.
/// </summary>
/// <remarks>
/// Sync and async share one code path (<c>…CoreAsync(bool async, …)</c>, as in <c>Pop3Client</c>):
/// the retriever's destinations commit synchronously today and the daemon and the application
/// sink are async, so both forms are needed, and neither may be a wrapper over the other.
/// A session that meets an I/O error, a timeout, a cancellation or a broken reply closes its
/// connection (<see cref="IsConnected"/> turns false); connect again for the next message.
/// </remarks>
internal sealed partial class LmtpClient : IDisposable, IAsyncDisposable
{
    private readonly LmtpTransport _transport;
    private readonly LmtpReplyReader _reader;
    private readonly LmtpClientOptions _options;
    private bool _closed;

    private LmtpClient(LmtpTransport transport, LmtpClientOptions options)
    {
        _transport = transport;
        _options = options;
        _reader = new LmtpReplyReader(transport, options.MaxReplyLineLength, options.MaxReplyLines);
    }

    /// <summary>The server's greeting (its 220 reply).</summary>
    public LmtpReply Greeting { get; private set; } = null!;

    /// <summary>What the server announced in its reply to LHLO.</summary>
    public LmtpCapabilities Capabilities { get; private set; } = null!;

    /// <summary>The endpoint this session is connected to.</summary>
    public LmtpEndpoint Endpoint { get; private set; } = null!;

    /// <summary>Whether the session can take another message (false after QUIT, a 421, or any fatal error).</summary>
    public bool IsConnected => !_closed;

    /// <summary>Connects, reads the greeting and says LHLO.</summary>
    public static LmtpClient Connect(LmtpEndpoint endpoint, LmtpClientOptions? options = null) =>
        RunSync(ConnectCoreAsync(endpoint, options, async: false, CancellationToken.None));

    /// <inheritdoc cref="Connect"/>
    public static Task<LmtpClient> ConnectAsync(LmtpEndpoint endpoint, LmtpClientOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectCoreAsync(endpoint, options, async: true, cancellationToken).AsTask();

    private static async ValueTask<LmtpClient> ConnectCoreAsync(LmtpEndpoint endpoint, LmtpClientOptions? options, bool async, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        options ??= new LmtpClientOptions();
        options.Validate();
        long started = Stopwatch.GetTimestamp();
        LmtpTransport transport = await LmtpTransport.ConnectAsync(endpoint, options.ConnectTimeout, async, cancellationToken).ConfigureAwait(false);
        var client = new LmtpClient(transport, options) { Endpoint = endpoint };
        try
        {
            TimeSpan left = options.ConnectTimeout - Stopwatch.GetElapsedTime(started);
            client.Greeting = await client.ReadReplyAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1), async, cancellationToken).ConfigureAwait(false);
            if (client.Greeting.Code != 220)
                throw new LmtpSessionRefusedException("the session (its greeting)", client.Greeting);
            LmtpReply lhlo = await client.CommandAsync($"LHLO {options.LocalName}", async, cancellationToken).ConfigureAwait(false);
            if (lhlo.Code != 250)
                throw new LmtpSessionRefusedException("LHLO", lhlo);
            client.Capabilities = LmtpCapabilities.Parse(lhlo);
            return client;
        }
        catch
        {
            client.Close();
            throw;
        }
    }

    /// <summary>Ends the current transaction (after a failure the client does this by itself).</summary>
    public void Reset() => RunSync(ResetCoreAsync(async: false, CancellationToken.None));

    /// <inheritdoc cref="Reset"/>
    public Task ResetAsync(CancellationToken cancellationToken = default) => ResetCoreAsync(async: true, cancellationToken).AsTask();

    private async ValueTask ResetCoreAsync(bool async, CancellationToken cancellationToken)
    {
        EnsureConnected();
        await GuardAsync(async () =>
        {
            LmtpReply reply = await CommandAsync("RSET", async, cancellationToken).ConfigureAwait(false);
            if (reply.Code != 250)
                throw new LmtpSessionRefusedException("RSET", reply);
            return 0;
        }).ConfigureAwait(false);
    }

    /// <summary>Says QUIT, reads the reply and closes the connection. Does nothing when it is closed already.</summary>
    public void Quit() => RunSync(QuitCoreAsync(async: false, CancellationToken.None));

    /// <inheritdoc cref="Quit"/>
    public Task QuitAsync(CancellationToken cancellationToken = default) => QuitCoreAsync(async: true, cancellationToken).AsTask();

    private async ValueTask QuitCoreAsync(bool async, CancellationToken cancellationToken)
    {
        if (_closed)
            return;
        try
        {
            await CommandAsync("QUIT", async, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Close();
        }
    }

    // One command line, written and answered.
    private async ValueTask<LmtpReply> CommandAsync(string line, bool async, CancellationToken cancellationToken)
    {
        await WriteAsync(Encoding.UTF8.GetBytes(line + "\r\n"), async, cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(_options.Timeout, async, cancellationToken).ConfigureAwait(false);
    }

    private ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool async, CancellationToken cancellationToken) =>
        _transport.WriteAsync(data, _options.Timeout, async, cancellationToken);

    private ValueTask<LmtpReply> ReadReplyAsync(TimeSpan timeout, bool async, CancellationToken cancellationToken) =>
        _reader.ReadReplyAsync(timeout, Capabilities?.EnhancedStatusCodes == true, async, cancellationToken);

    /// <summary>
    /// Runs an exchange; on any failure but a usage error the connection is closed, and a broken
    /// socket becomes an <see cref="LmtpProtocolException"/> naming the server.
    /// </summary>
    private async ValueTask<T> GuardAsync<T>(Func<ValueTask<T>> exchange)
    {
        try
        {
            return await exchange().ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            Close();
            throw new LmtpProtocolException($"The connection to the LMTP server {Endpoint} broke: {e.Message}; it is closed.", e);
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            Close();
            throw;
        }
    }

    private void EnsureConnected()
    {
        if (_closed)
            throw new InvalidOperationException($"The LMTP session with {Endpoint} is closed (QUIT, a 421 or an error before); connect again.");
    }

    private void Close()
    {
        _closed = true;
        _transport.Dispose();
    }

    public void Dispose() => Close();

    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }

    internal static T RunSync<T>(ValueTask<T> task)
    {
        Debug.Assert(task.IsCompleted, "The synchronous path must complete synchronously.");
        return task.GetAwaiter().GetResult();
    }

    internal static void RunSync(ValueTask task)
    {
        Debug.Assert(task.IsCompleted, "The synchronous path must complete synchronously.");
        task.GetAwaiter().GetResult();
    }
}
