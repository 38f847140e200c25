// benchmarks/run's raw readers, the physical limit: one socket (optionally TLS), USER/PASS/STAT, then
// every RETR sent at once from a writer thread (Dovecot offers PIPELINING) while this thread reads the
// replies. Two modes (argument; default "lines"):
//   lines       finds every line end: a status line, then body lines up to the one holding only ".".
//               Bytes counted are body bytes on the wire.
//   terminator  reads 1 MB at a time and only searches each read for "\r\n.\r\n" (the last 4 bytes carried
//               across reads) to count the messages: the least work that still knows where the mailbox
//               ends, and the tighter baseline (issue 16). Bytes counted are all bytes received after STAT.
//   terminator-async  the same with ReadAsync: the floor of an async socket reader on this runtime.
// No unstuffing, no copy, no parsing beyond that.
// Settings from the environment: BENCH_HOST, BENCH_PORT, BENCH_USER, BENCH_PASS, BENCH_CERT (PEM to pin:
// implicit TLS; empty: plain). Prints one JSON line: messages, bytes, seconds (connect to QUIT).
using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

string mode = args.Length == 0 ? "lines" : args[0];
if (mode is not ("lines" or "terminator" or "terminator-async"))
    throw new ArgumentException("usage: Peers.Raw [lines|terminator|terminator-async]");
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
if (mode.StartsWith("terminator", StringComparison.Ordinal))
{
    // The status lines of QUIT and of every RETR end in CRLF too, but only a body ends in CRLF.CRLF.
    bytes = await reader.CountTerminatorsAsync(count, async: mode == "terminator-async");
}
else
{
    for (int i = 0; i < count; i++)
        bytes += reader.Message();
    Expect(reader.Line(), "QUIT");
}

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

    /// <summary>
    /// Reads 1 MB at a time until <paramref name="count"/> "\r\n.\r\n" terminators and then the QUIT
    /// reply's line end have gone by; finds nothing else. Returns the bytes read (what was buffered
    /// from the STAT exchange included). <paramref name="async"/>: each read is a ReadAsync, so the
    /// reader pays what any async socket reader pays on this runtime (a thread-pool hop per wait).
    /// </summary>
    public async Task<long> CountTerminatorsAsync(int count, bool async)
    {
        byte[] chunk = new byte[1024 * 1024 + 4];
        // What is still buffered from the line reads comes first, behind 4 bytes that cannot match.
        int carried = 4;
        chunk.AsSpan(0, 4).Fill((byte)'x');
        int length = _end - _start;
        _buffer.AsSpan(_start, length).CopyTo(chunk.AsSpan(carried));
        _start = _end = 0;
        long bytes = length;
        int found = 0;
        while (true)
        {
            int window = carried + length;
            int at = Scan(chunk.AsSpan(0, window), ref found, count);
            // After the last body only the QUIT reply's line is left.
            if (found == count && chunk.AsSpan(at, window - at).IndexOf((byte)'\n') >= 0)
                return bytes;
            // Carry the last 4 bytes (fewer, past a terminator just found) so a split terminator is seen.
            carried = Math.Min(4, window - at);
            chunk.AsSpan(window - carried, carried).CopyTo(chunk);
            length = async
                ? await stream.ReadAsync(chunk.AsMemory(carried)).ConfigureAwait(false)
                : stream.Read(chunk, carried, chunk.Length - carried);
            if (length == 0)
                throw new EndOfStreamException("the server closed the connection early");
            bytes += length;
        }
    }

    // Counts terminators in the window, up to count in all; returns where the search stopped.
    private static int Scan(ReadOnlySpan<byte> window, ref int found, int count)
    {
        ReadOnlySpan<byte> terminator = "\r\n.\r\n"u8;
        int at = 0;
        while (found < count)
        {
            int hit = window[at..].IndexOf(terminator);
            if (hit < 0)
                break;
            found++;
            at += hit + terminator.Length;
        }

        return at;
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
