// benchmarks/run's Poplib peer: logs in, STAT, RETRs every message into Stream.Null, QUIT.
// Mode (argument): sync | async (one message at a time, RetrTo/RetrToAsync), batched-sync |
// batched (pipelined: RetrMany/RetrManyAsync over the LIST, each message streamed into Stream.Null);
// for benchmarks/run --mime, each message parsed into a MimeKit MimeMessage by Poplib.MimeKit: mime-sync |
// mime-async (one at a time, RetrMimeMessage/RetrMimeMessageAsync), mime-batched-sync | mime-batched
// (pipelined: RetrMimeMessages/RetrMimeMessagesAsync over the LIST); "bytes" is then the sum of the
// parsed text bodies' lengths in characters (the same sum the MailKit peer reports).
// Settings from the environment: BENCH_HOST, BENCH_PORT, BENCH_USER, BENCH_PASS, BENCH_CERT (PEM to
// pin: implicit TLS; empty: plain), BENCH_WINDOW (PipelineWindow; default: the library's, 1,024), BENCH_PASSES (below). Prints one JSON line:
// messages, bytes, seconds (connect to QUIT), cpu (this process's CPU seconds in that time) and allocated
// (the bytes the process allocated on the managed heap in that time: what the GC has to clear and collect).
using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MimeKit;
using Poplib;

string mode = args.Length == 1 ? args[0] : throw new ArgumentException("usage: Peers.Poplib sync|async|batched-sync|batched|mime-sync|mime-async|mime-batched-sync|mime-batched");
string host = Environment.GetEnvironmentVariable("BENCH_HOST") ?? "127.0.0.1";
int port = int.Parse(Environment.GetEnvironmentVariable("BENCH_PORT")!);
string user = Environment.GetEnvironmentVariable("BENCH_USER")!;
string pass = Environment.GetEnvironmentVariable("BENCH_PASS")!;
string? certFile = Environment.GetEnvironmentVariable("BENCH_CERT");
bool tls = !string.IsNullOrEmpty(certFile);

var options = new Pop3ClientOptions { AllowInsecureAuthentication = true };
if (Environment.GetEnvironmentVariable("BENCH_WINDOW") is { Length: > 0 } window)
    options.PipelineWindow = int.Parse(window, System.Globalization.CultureInfo.InvariantCulture);
if (tls)
{
    // Pin the server's own certificate: trust exactly it, nothing else.
    byte[] pinned = X509CertificateLoader.LoadCertificateFromFile(certFile!).RawData;
    options.SslOptions = new SslClientAuthenticationOptions
    {
        TargetHost = "localhost",
        RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(pinned),
    };
}

// BENCH_PASSES (benchmarks/mime --warm): fetch the mailbox this many times in one process and report the
// last pass alone, its own clock and CPU: the process is warm by then (JIT done), as a long-running application is.
int passes = int.Parse(Environment.GetEnvironmentVariable("BENCH_PASSES") is { Length: > 0 } n ? n : "1", System.Globalization.CultureInfo.InvariantCulture);
Stopwatch clock = new();
TimeSpan cpu = TimeSpan.Zero;
long allocated = 0;
long bytes = 0;
int count = 0;
for (int round = 1; round <= passes; round++)
{
    TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    clock.Restart();
    bytes = 0;
    switch (mode)
    {
        case "sync":
        {
            using Pop3Client client = LogIn();
            count = client.Stat().Count;
            for (int i = 1; i <= count; i++)
                bytes += client.RetrTo(i, Stream.Null);
            client.Quit();
            break;
        }

        case "batched-sync":
        {
            using Pop3Client client = LogIn();
            IReadOnlyList<Pop3ListEntry> listing = client.List();
            count = listing.Count;
            foreach (Pop3BatchMessage message in client.RetrMany(listing))
            {
                message.Content.CopyTo(Stream.Null);
                bytes += message.Content.Position;
            }

            client.Quit();
            break;
        }

        case "batched":
        {
            await using Pop3Client client = await LogInAsync();
            IReadOnlyList<Pop3ListEntry> listing = await client.ListAsync();
            count = listing.Count;
            await foreach (Pop3BatchMessage message in client.RetrManyAsync(listing))
            {
                await message.Content.CopyToAsync(Stream.Null);
                bytes += message.Content.Position;
            }

            await client.QuitAsync();
            break;
        }

        case "async":
        {
            await using Pop3Client client = await LogInAsync();
            count = (await client.StatAsync()).Count;
            for (int i = 1; i <= count; i++)
                bytes += await client.RetrToAsync(i, Stream.Null);
            await client.QuitAsync();
            break;
        }

        case "mime-sync":
        {
            using Pop3Client client = LogIn();
            count = client.Stat().Count;
            for (int i = 1; i <= count; i++)
                bytes += Parsed(client.RetrMimeMessage(i));
            client.Quit();
            break;
        }

        case "mime-async":
        {
            await using Pop3Client client = await LogInAsync();
            count = (await client.StatAsync()).Count;
            for (int i = 1; i <= count; i++)
                bytes += Parsed(await client.RetrMimeMessageAsync(i));
            await client.QuitAsync();
            break;
        }

        case "mime-batched-sync":
        {
            using Pop3Client client = LogIn();
            IReadOnlyList<Pop3ListEntry> listing = client.List();
            count = listing.Count;
            foreach (Pop3MimeBatchMessage message in client.RetrMimeMessages(listing))
                bytes += Parsed(message.Message);
            client.Quit();
            break;
        }

        case "mime-batched":
        {
            await using Pop3Client client = await LogInAsync();
            IReadOnlyList<Pop3ListEntry> listing = await client.ListAsync();
            count = listing.Count;
            await foreach (Pop3MimeBatchMessage message in client.RetrMimeMessagesAsync(listing))
                bytes += Parsed(message.Message);
            await client.QuitAsync();
            break;
        }

        default:
            throw new ArgumentException($"unknown mode {mode}");
    }

    clock.Stop();
    cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
    allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
}

Console.WriteLine($"{{\"messages\":{count},\"bytes\":{bytes},\"seconds\":{clock.Elapsed.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture)},\"cpu\":{cpu.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture)},\"allocated\":{allocated}}}");

// What a caller reads of a parsed message: its text body (decoded), so the parse is used, not just done.
static long Parsed(MimeMessage message) => message.TextBody?.Length ?? throw new InvalidDataException($"no text body in {message.MessageId}");

// Connects (implicit TLS when a certificate is pinned) and logs in with USER/PASS, as the Python peer does
// (LoginUserPass: one write for both where the server pipelines, as Dovecot does; MailKit's peer uses APOP).
Pop3Client LogIn()
{
    Pop3Client client = tls ? Pop3Client.ConnectSsl(host, port, options) : Pop3Client.Connect(host, port, options);
    client.LoginUserPass(user, pass);
    return client;
}

async Task<Pop3Client> LogInAsync()
{
    Pop3Client client = tls ? await Pop3Client.ConnectSslAsync(host, port, options) : await Pop3Client.ConnectAsync(host, port, options);
    await client.LoginUserPassAsync(user, pass);
    return client;
}
