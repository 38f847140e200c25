// benchmarks/run's MailKit peer: logs in with USER/PASS, counts the messages, fetches every one, QUIT.
// Mode (argument): getstream (GetStream one message at a time) | getstreams (GetStreams: one pipelined batch
// of all messages, which MailKit holds in memory until returned); for benchmarks/run --mime, each message parsed
// into a MimeMessage by MailKit itself: getmessage (GetMessage one at a time) | getmessages (GetMessages: one
// pipelined batch, the whole list returned at once); "bytes" is then the sum of the text bodies' lengths in characters.
// Settings from the environment: BENCH_HOST, BENCH_PORT, BENCH_USER, BENCH_PASS, BENCH_CERT (PEM to pin:
// implicit TLS; empty: plain), BENCH_PASSES (below). Prints one JSON line: messages, bytes, seconds (connect to
// QUIT) and cpu (this process's CPU seconds in that time).
using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using MailKit.Net.Pop3;
using MailKit.Security;
using MimeKit;

string mode = args.Length == 1 ? args[0] : throw new ArgumentException("usage: Peers.MailKit getstream|getstreams|getmessage|getmessages");
string host = Environment.GetEnvironmentVariable("BENCH_HOST") ?? "127.0.0.1";
int port = int.Parse(Environment.GetEnvironmentVariable("BENCH_PORT")!);
string user = Environment.GetEnvironmentVariable("BENCH_USER")!;
string pass = Environment.GetEnvironmentVariable("BENCH_PASS")!;
string? certFile = Environment.GetEnvironmentVariable("BENCH_CERT");
bool tls = !string.IsNullOrEmpty(certFile);

// BENCH_PASSES (benchmarks/mime --warm): fetch the mailbox this many times in one process and report the
// last pass alone, its own clock and CPU: the process is warm by then (JIT done), as a long-running application is.
int passes = int.Parse(Environment.GetEnvironmentVariable("BENCH_PASSES") is { Length: > 0 } n ? n : "1", System.Globalization.CultureInfo.InvariantCulture);
Stopwatch clock = new();
TimeSpan cpu = TimeSpan.Zero;
long bytes = 0;
int count = 0;
for (int round = 1; round <= passes; round++)
{
    TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    RunPass();
    clock.Stop();
    cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
}

Console.WriteLine($"{{\"messages\":{count},\"bytes\":{bytes},\"seconds\":{clock.Elapsed.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture)},\"cpu\":{cpu.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}}}");

static long Drain(Stream message)
{
    long before = message.Length;
    message.CopyTo(Stream.Null);
    return before;
}

// What a caller reads of a parsed message: its text body (decoded), so the parse is used, not just done.
static long Parsed(MimeMessage message) => message.TextBody?.Length ?? throw new InvalidDataException($"no text body in {message.MessageId}");

// One pass: connect, log in, fetch every message in the chosen mode, QUIT (the client disposed at the end).
void RunPass()
{
    clock.Restart();
    using var client = new Pop3Client();
    if (tls)
    {
        // Pin the server's own certificate: trust exactly it, nothing else.
        byte[] pinned = X509CertificateLoader.LoadCertificateFromFile(certFile!).RawData;
        client.ServerCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(pinned);
    }

    client.Connect(host, port, tls ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.None);
    // No SASL (MailKit would otherwise pick SCRAM; the login is not what is measured). MailKit then logs in
    // with APOP where the greeting carries a timestamp, as the benchmarks' Dovecot's does: one command where
    // the other peers send USER and PASS (a packet capture, docs/performance.md: latency).
    client.AuthenticationMechanisms.Clear();
    client.Authenticate(user, pass);
    count = client.Count;
    bytes = 0;
    switch (mode)
    {
        case "getstream":
            for (int i = 0; i < count; i++)
            {
                using Stream message = client.GetStream(i);
                bytes += Drain(message);
            }

            break;

        case "getstreams":
            foreach (Stream message in client.GetStreams(0, count))
            {
                using (message)
                    bytes += Drain(message);
            }

            break;

        case "getmessage":
            for (int i = 0; i < count; i++)
                bytes += Parsed(client.GetMessage(i));
            break;

        case "getmessages":
            foreach (MimeMessage message in client.GetMessages(0, count))
                bytes += Parsed(message);
            break;

        default:
            throw new ArgumentException($"unknown mode {mode}");
    }

    client.Disconnect(quit: true);
}
