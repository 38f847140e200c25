using System.Net;
using System.Net.Sockets;

namespace Poplib.Fuzz;

/// <summary>
/// The server's side of each session: a listener on 127.0.0.1 and a thread that accepts one
/// connection per input, writes the input's server bytes in one send, and shuts its sending side
/// (the client then reads end of stream after the last byte, so nothing ever waits for a timeout).
/// The socket stays open, reading nothing, until the next session connects, and is then reset
/// (linger 0), so that no TIME_WAIT socket is left behind by millions of sessions.
/// </summary>
internal sealed class LoopbackServer : IDisposable
{
    private readonly Socket _listener;
    private readonly Thread _thread;
    private Payload _payload = new(ReadOnlyMemory<byte>.Empty);

    public LoopbackServer()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        // Inherited by each accepted socket: a whole input fits, so one send never waits for the client.
        _listener.SendBufferSize = 1 << 20;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _thread = new Thread(Serve) { IsBackground = true, Name = "fuzz server" };
        _thread.Start();
    }

    public int Port { get; }

    /// <summary>
    /// Makes the next connection receive <paramref name="bytes"/>. The server thread reads them only
    /// once the client has connected, which is after this call; the session before has ended by then.
    /// </summary>
    public void Begin(ReadOnlyMemory<byte> bytes) => Volatile.Write(ref _payload, new Payload(bytes));

    // Nothing waits for the client: its session has ended when the next one connects, so that is
    // when its connection is reset. One wake-up per session (the accept), no handshakes between threads.
    private void Serve()
    {
        Socket? previous = null;
        while (true)
        {
            Socket connection;
            try
            {
                connection = _listener.Accept();
            }
            catch (ObjectDisposedException)
            {
                previous?.Dispose();
                return;
            }

            if (previous is not null)
            {
                previous.LingerState = new LingerOption(true, 0);
                previous.Dispose();
            }

            previous = connection;
            ReadOnlyMemory<byte> bytes = Volatile.Read(ref _payload).Bytes;
            if (!bytes.IsEmpty)
                connection.Send(bytes.Span);
            connection.Shutdown(SocketShutdown.Send);
        }
    }

    public void Dispose() => _listener.Dispose();

    private sealed record Payload(ReadOnlyMemory<byte> Bytes);
}
