using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Poplib.Testing.Tests.Infrastructure;

/// <summary>A bare TCP connection for what the client library will not do: pipelined writes, overlong lines, silence.</summary>
internal sealed class RawConnection : IDisposable
{
    private readonly TcpClient _tcp = new();
    private readonly List<byte> _pending = [];
    private Stream _stream = null!;

    public static async Task<RawConnection> OpenAsync(Pop3TestServer server)
    {
        var connection = new RawConnection();
        await connection._tcp.ConnectAsync(server.EndPoint);
        connection._stream = connection._tcp.GetStream();
        return connection;
    }

    /// <summary>Sends the text in one write (one TCP segment for small text).</summary>
    public Task SendAsync(string text) => _stream.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask();

    /// <summary>Reads one line without its CRLF; null when the server closed the connection.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        byte[] buffer = new byte[4096];
        while (true)
        {
            int lf = _pending.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                string line = Encoding.UTF8.GetString(_pending.Take(lf).ToArray()).TrimEnd('\r');
                _pending.RemoveRange(0, lf + 1);
                return line;
            }

            int read;
            try
            {
                read = await _stream.ReadAsync(buffer, cts.Token);
            }
            catch (IOException)
            {
                return null;
            }

            if (read == 0)
                return null;
            _pending.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }

    /// <summary>Reads lines up to and including a line holding only ".".</summary>
    public async Task<List<string>> ReadMultiLineAsync()
    {
        var lines = new List<string>();
        while (await ReadLineAsync() is { } line)
        {
            lines.Add(line);
            if (line == ".")
                break;
        }

        return lines;
    }

    /// <summary>Starts TLS over the connection, trusting the server's certificate.</summary>
    public async Task StartTlsAsync(Pop3TestServer server)
    {
        var tls = new SslStream(_stream);
        SslClientAuthenticationOptions options = TestServer.Trusting(server.Certificate);
        options.TargetHost = "localhost";
        await tls.AuthenticateAsClientAsync(options);
        _stream = tls;
    }

    public void Dispose() => _tcp.Dispose();
}
