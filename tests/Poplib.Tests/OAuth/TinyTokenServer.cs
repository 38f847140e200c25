using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Poplib.Tests.OAuth;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 for the token-endpoint tests: each request's form is
/// recorded and answered by <c>respond</c> with raw bytes (a status line and all), so that a test can
/// answer as a real server would, or as a hostile one (a redirect, a huge body, garbage, silence).
/// </summary>
internal sealed class TinyTokenServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Func<Dictionary<string, string>, Task<byte[]>> _respond;

    public TinyTokenServer(Func<Dictionary<string, string>, Task<byte[]>> respond)
    {
        _respond = respond;
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public Uri Endpoint => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/token");

    public List<Dictionary<string, string>> Requests { get; } = [];

    public static byte[] Json(string json, int status = 200) => Raw(status, "application/json", Encoding.UTF8.GetBytes(json));

    public static byte[] Raw(int status, string contentType, byte[] body, string extraHeaders = "")
    {
        byte[] head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} X\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n{extraHeaders}Connection: close\r\n\r\n");
        return [.. head, .. body];
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        NetworkStream stream = client.GetStream();
                        Dictionary<string, string> form = await ReadFormAsync(stream);
                        lock (Requests)
                            Requests.Add(form);
                        byte[] answer = await _respond(form);
                        await stream.WriteAsync(answer, _stop.Token);
                    }
                    catch (Exception)
                    {
                        // The client gave up (a timeout test): nothing to answer.
                    }
                }
            });
        }
    }

    private async Task<Dictionary<string, string>> ReadFormAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        byte[] chunk = new byte[4096];
        int headerEnd;
        while ((headerEnd = IndexOf(buffer, "\r\n\r\n"u8.ToArray())) < 0)
        {
            int read = await stream.ReadAsync(chunk, _stop.Token);
            if (read == 0)
                throw new IOException("closed");
            buffer.AddRange(chunk.AsSpan(0, read).ToArray());
        }

        string head = Encoding.ASCII.GetString(buffer.ToArray(), 0, headerEnd);
        int length = head.Split("\r\n").Where(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            .Select(h => int.Parse(h["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        while (buffer.Count < headerEnd + 4 + length)
        {
            int read = await stream.ReadAsync(chunk, _stop.Token);
            if (read == 0)
                break;
            buffer.AddRange(chunk.AsSpan(0, read).ToArray());
        }

        string body = Encoding.ASCII.GetString(buffer.ToArray(), headerEnd + 4, buffer.Count - headerEnd - 4);
        return body.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");
    }

    private static int IndexOf(List<byte> haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Count; i++)
        {
            if (haystack.Skip(i).Take(needle.Length).SequenceEqual(needle))
                return i;
        }

        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
