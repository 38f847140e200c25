using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Poplib.Tests.Proxy;

/// <summary>
/// A minimal but real SOCKS4a proxy on 127.0.0.1 (Dante, the SOCKS server the tests run, speaks SOCKS4
/// but does not resolve names for it): it reads the request, resolves a 4a host name itself, connects,
/// answers 90 and relays both ways. It records each request's host as it arrived (name or address).
/// </summary>
internal sealed class Socks4aTestProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public Socks4aTestProxy()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>(user id, host) of each request, the host as the client sent it.</summary>
    public List<(string UserId, string Host)> Requests { get; } = [];

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            try
            {
                using var stream = new NetworkStream(client);
                byte[] head = new byte[8];
                await stream.ReadExactlyAsync(head, _stop.Token);
                if (head[0] != 4 || head[1] != 1)
                    return;
                int port = BinaryPrimitives.ReadUInt16BigEndian(head.AsSpan(2));
                string userId = await ReadNulTerminatedAsync(stream);
                string host = head[4] == 0 && head[5] == 0 && head[6] == 0 && head[7] != 0
                    ? await ReadNulTerminatedAsync(stream)
                    : new IPAddress(head.AsSpan(4, 4)).ToString();
                lock (Requests)
                    Requests.Add((userId, host));

                using var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    IPAddress address = (await Dns.GetHostAddressesAsync(host, _stop.Token)).First(a => a.AddressFamily == AddressFamily.InterNetwork);
                    await server.ConnectAsync(address, port, _stop.Token);
                }
                catch (SocketException)
                {
                    await stream.WriteAsync(new byte[] { 0, 91, 0, 0, 0, 0, 0, 0 }, _stop.Token);
                    return;
                }

                await stream.WriteAsync(new byte[] { 0, 90, 0, 0, 0, 0, 0, 0 }, _stop.Token);
                using var upstream = new NetworkStream(server);
                Task up = stream.CopyToAsync(upstream, _stop.Token).ContinueWith(_ => server.Shutdown(SocketShutdown.Send), TaskScheduler.Default);
                Task down = upstream.CopyToAsync(stream, _stop.Token).ContinueWith(_ => client.Shutdown(SocketShutdown.Send), TaskScheduler.Default);
                await Task.WhenAll(up, down);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or EndOfStreamException)
            {
                // The client or the server went away: the relay ends.
            }
        }
    }

    // A SOCKS4 string: at most 255 octets before its NUL.
    private async Task<string> ReadNulTerminatedAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        byte[] one = new byte[1];
        while (true)
        {
            await stream.ReadExactlyAsync(one, _stop.Token);
            if (one[0] == 0)
                return Encoding.ASCII.GetString(bytes.ToArray());
            if (bytes.Count == 255)
                throw new IOException("SOCKS4 string too long");
            bytes.Add(one[0]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
