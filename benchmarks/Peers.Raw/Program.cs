// benchmarks/run's raw reader, the physical limit: one socket (optionally TLS), USER/PASS/STAT, then
// every RETR sent at once from a writer thread (Dovecot offers PIPELINING) while this thread reads the
// replies and only finds their ends: a status line, then body lines up to the one holding only ".".
// No unstuffing, no copy, no parsing beyond that. Bytes counted are body bytes on the wire.
// Settings from the environment: BENCH_HOST, BENCH_PORT, BENCH_USER, BENCH_PASS, BENCH_CERT (PEM to pin:
// implicit TLS; empty: plain). Prints one JSON line: messages, bytes, seconds (connect to QUIT).
using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

string host = Environment.GetEnvironmentVariable("BENCH_HOST") ?? "127.0.0.1";
int port = int.Parse(Environment.GetEnvironmentVariable("BENCH_PORT")!);
string user = Environment.GetEnvironmentVariable("BENCH_USER")!;
string pass = Environment.GetEnvironmentVariable("BENCH_PASS")!;
string? certFile = Environment.GetEnvironmentVariable("BENCH_CERT");

var clock = Stopwatch.StartNew();
using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
socket.Connect(host, port);
Stream stream = new NetworkStream(socket, ownsSocket: false);
if (!string.IsNullOrEmpty(certFile))
{
    byte[] pinned = X509CertificateLoader.LoadCertificateFromFile(certFile).RawData;
    var ssl = new SslStream(stream, leaveInnerStreamOpen: false, (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(pinned));
    ssl.AuthenticateAsClient("localhost");
    stream = ssl;
}

var reader = new Reader(stream);
Expect(reader.Line(), "greeting");
stream.Write(Encoding.ASCII.GetBytes($"USER {user}\r\nPASS {pass}\r\nSTAT\r\n"));
Expect(reader.Line(), "USER");
Expect(reader.Line(), "PASS");
string stat = reader.Line();
Expect(stat, "STAT");
int count = int.Parse(stat.Split(' ')[1]);

var commands = new StringBuilder();
for (int i = 1; i <= count; i++)
    commands.Append("RETR ").Append(i).Append("\r\n");
commands.Append("QUIT\r\n");
byte[] pipeline = Encoding.ASCII.GetBytes(commands.ToString());
var writer = new Thread(() => stream.Write(pipeline)) { IsBackground = true };
writer.Start();

long bytes = 0;
for (int i = 0; i < count; i++)
    bytes += reader.Message();
Expect(reader.Line(), "QUIT");
writer.Join();
Console.WriteLine($"{{\"messages\":{count},\"bytes\":{bytes},\"seconds\":{clock.Elapsed.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}}}");
return 0;

static void Expect(string line, string what)
{
    if (!line.StartsWith("+OK", StringComparison.Ordinal))
        throw new InvalidOperationException($"{what}: {line}");
}

/// <summary>A 256 KiB buffer over the stream; finds line ends with a vectorised search.</summary>
internal sealed class Reader(Stream stream)
{
    private readonly byte[] _buffer = new byte[256 * 1024];
    private int _start;
    private int _end;

    public string Line()
    {
        while (true)
        {
            int lf = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (lf >= 0)
            {
                string line = Encoding.ASCII.GetString(_buffer, _start, lf).TrimEnd('\r');
                _start += lf + 1;
                return line;
            }

            Fill();
        }
    }

    /// <summary>Reads one reply: the status line, then body lines up to ".\r\n". Returns the body's wire bytes.</summary>
    public long Message()
    {
        Expect(Line());
        long bytes = 0;
        while (true)
        {
            // At the start of a line: the terminator needs 3 bytes to be told apart.
            while (_end - _start < 3)
                Fill();
            if (_buffer[_start] == (byte)'.' && _buffer[_start + 1] == (byte)'\r' && _buffer[_start + 2] == (byte)'\n')
            {
                _start += 3;
                return bytes;
            }

            // Skip to the next line start.
            while (true)
            {
                int lf = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
                if (lf >= 0)
                {
                    bytes += lf + 1;
                    _start += lf + 1;
                    break;
                }

                bytes += _end - _start;
                _start = _end;
                Fill();
            }
        }
    }

    private static void Expect(string line)
    {
        if (!line.StartsWith("+OK", StringComparison.Ordinal))
            throw new InvalidOperationException($"RETR: {line}");
    }

    private void Fill()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        int read = stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
            throw new EndOfStreamException("the server closed the connection early");
        _end += read;
    }
}
