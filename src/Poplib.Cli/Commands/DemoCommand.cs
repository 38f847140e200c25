using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Poplib.Cli.Demo;
using Poplib.Cli.Output;
using Poplib.Testing;

namespace Poplib.Cli.Commands;

/// <summary>
/// <c>poplib demo</c>: the whole job in one command, with nothing to install — generate a realistic
/// mailbox, serve it over TLS from an in-process server on a free loopback port, log in with a
/// verified certificate, download every message into a Maildir and prove each is byte-identical.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(CliConsole console)
    {
        var count = new Option<int>("--messages", "-n") { Description = "How many sample messages to generate", DefaultValueFactory = _ => 300 };
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "The Maildir to deliver into", DefaultValueFactory = _ => new DirectoryInfo("demo-mail") };
        var command = new Command("demo", "Generate a sample mailbox, serve it over TLS on loopback, and fetch it into ./demo-mail") { count, output };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                int n = result.GetValue(count);
                if (n is < 1 or > 1_000_000)
                    throw new CliException(ExitCodes.Usage, "--messages must be between 1 and 1,000,000");
                return await RunAsync(console, n, result.GetValue(output)!, cancellationToken);
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, console.Error, debugLevel: 0);
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, int count, DirectoryInfo output, CancellationToken cancellationToken)
    {
        TextWriter say = console.Out;
        string work = Path.Combine(Path.GetTempPath(), "poplib-demo-" + Guid.NewGuid().ToString("N")[..8]);
        string source = Path.Combine(work, "Maildir");
        try
        {
            var clock = Stopwatch.StartNew();
            SampleMailbox.Write(Path.Combine(source, "cur"), count);
            foreach (string sub in new[] { "new", "tmp" })
                Directory.CreateDirectory(Path.Combine(source, sub));
            string[] originals = Directory.GetFiles(Path.Combine(source, "cur")).Order(StringComparer.Ordinal).ToArray();
            say.WriteLine($"Generated:    {count} messages ({originals.Sum(f => new FileInfo(f).Length) / 1048576.0:0.0} MiB: plain, multipart with attachments, UTF-8 subjects, 30 KB HTML lines, lines starting with '.')");

            string password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
            await using Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.Implicit }, cancellationToken);
            server.AddUser("demo", password, Pop3Mailbox.FromMaildir(source));
            say.WriteLine($"Serving:      pops://demo@localhost:{server.Port} (in-process Poplib.Testing server, self-signed certificate)");

            await using Pop3Client client = await Pop3Client.ConnectSslAsync("localhost", server.Port, Trusting(server.Certificate), cancellationToken);
            say.WriteLine($"Connected:    {client.Welcome}");
            say.WriteLine($"TLS:          {client.SslProtocol}, certificate verified against the server's own");
            say.WriteLine($"Capabilities: {string.Join(' ', client.Capabilities.Keys.Order(StringComparer.Ordinal))}");
            await client.LoginAsync("demo", password, cancellationToken);
            say.WriteLine($"Logged in:    with {client.AuthenticationMethod} (the strongest method offered)");

            IReadOnlyList<Pop3ListEntry> listing = await client.ListAsync(cancellationToken);
            long total = listing.Sum(e => e.Size);
            say.WriteLine($"Mailbox:      {listing.Count} messages, {total:N0} octets");
            say.WriteLine();
            await ShowHeadersAsync(client, listing.Take(5), say, cancellationToken);
            if (listing.Count > 5)
                say.WriteLine($"  … and {listing.Count - 5} more");
            say.WriteLine();

            var maildir = new MaildirWriter(output.FullName);
            var progress = new ProgressBar(say, console.IsTerminal, listing.Count, total);
            long bytes = 0;
            int identical = 0;
            var download = Stopwatch.StartNew();
            for (int i = 0; i < listing.Count; i++)
            {
                Pop3ListEntry entry = listing[i];
                long octets = 0;
                string delivered = await maildir.DeliverAsync(async file => octets = await client.RetrToAsync(entry.Number, file, cancellationToken), cancellationToken);
                bytes += octets;
                if (SameBytes(delivered, originals[entry.Number - 1]))
                    identical++;
                progress.Report(i + 1, bytes);
            }

            TimeSpan elapsed = download.Elapsed;
            await client.QuitAsync(cancellationToken);
            say.WriteLine($"Delivered:    {listing.Count} messages, {bytes:N0} octets into {output.FullName} (Maildir: tmp/, fsync, rename into new/)");
            say.WriteLine($"Verified:     {identical}/{originals.Length} byte-identical to the originals");
            say.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Time:         {elapsed.TotalSeconds:0.00} s to download ({bytes / 1048576.0 / elapsed.TotalSeconds:0.0} MiB/s, {listing.Count / elapsed.TotalSeconds:0} messages/s); {clock.Elapsed.TotalSeconds:0.00} s in all"));
            return identical == originals.Length && listing.Count == originals.Length ? ExitCodes.Ok : ExitCodes.Internal;
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // A temporary folder left behind is harmless.
            }
        }
    }

    private static async Task ShowHeadersAsync(Pop3Client client, IEnumerable<Pop3ListEntry> entries, TextWriter say, CancellationToken cancellationToken)
    {
        var table = new Table("#", "OCTETS", "SUBJECT");
        foreach (Pop3ListEntry entry in entries)
        {
            Pop3Message head = await client.TopAsync(entry.Number, 0, cancellationToken);
            string subject = EncodedWords.Decode(head.Lines.Select(l => Encoding.UTF8.GetString(l.Span))
                .FirstOrDefault(l => l.StartsWith("Subject: ", StringComparison.OrdinalIgnoreCase))?[9..] ?? "");
            table.Add(entry.Number.ToString(CultureInfo.InvariantCulture), entry.Size.ToString(CultureInfo.InvariantCulture), subject);
        }

        table.WriteTo(say);
    }

    private static bool SameBytes(string a, string b) => File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b));

    private static Pop3ClientOptions Trusting(X509Certificate2 certificate)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificate(certificate.RawData));
        return new Pop3ClientOptions { SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy } };
    }
}
