using System.Net;
using System.Net.Sockets;

namespace Poplib.Tests.Proxy;

/// <summary>
/// A proxy that misbehaves as the test says: each connection runs <paramref name="script"/> on its
/// stream; what the client sent is kept in <see cref="Received"/>. The script's own failures (the
/// client hung up on it) end that connection quietly.
/// </summary>
internal sealed class HostileProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<Conversation, Task> _script;
    private readonly Task _accepting;

    public HostileProxy(Func<Conversation, Task> script)
    {
        _script = script;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections { get; private set; }

    private Conversation? _last;

    /// <summary>Everything the last client sent that the script read (the script read it before it answered).</summary>
    public byte[] Received => _last?.Received.ToArray() ?? [];

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Connections++;
            _ = Task.Run(async () =>
            {
                using (socket)
                {
                    var conversation = new Conversation(new NetworkStream(socket), _stop.Token);
                    _last = conversation;
                    try
                    {
                        await _script(conversation);
                    }
                    catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or EndOfStreamException)
                    {
                        // The client closed the connection: that is what the test expects of it.
                    }
                }
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
    }

    /// <summary>One connection as the script sees it.</summary>
    internal sealed class Conversation(NetworkStream stream, CancellationToken stop)
    {
        public MemoryStream Received { get; } = new();

        public CancellationToken Stop => stop;

        public async Task<byte[]> Read(int count)
        {
            byte[] bytes = new byte[count];
            await stream.ReadExactlyAsync(bytes, stop);
            Received.Write(bytes);
            return bytes;
        }

        /// <summary>Reads up to the end of an HTTP request header (an empty line).</summary>
        public async Task ReadHttpRequest()
        {
            while (!Received.ToArray().AsSpan().EndsWith("\r\n\r\n"u8))
                await Read(1);
        }

        public Task Write(params byte[] bytes) => stream.WriteAsync(bytes, stop).AsTask();

        public Task Write(string text) => Write(System.Text.Encoding.Latin1.GetBytes(text));

        /// <summary>Waits until the client goes away (or the test ends), reading and keeping nothing.</summary>
        public async Task Hang()
        {
            byte[] sink = new byte[256];
            while (await stream.ReadAsync(sink, stop) > 0)
            {
            }
        }
    }
}
