using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Poplib.Cli.Connection;
using Poplib.Cli.Demo;
using Poplib.Cli.Fetch;
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
        // Its output reports on work that must go on: a closed standard output only silences it.
        console = console.TolerateClosedOutput();
        var count = new Option<int>("--messages", "-n") { Description = "How many sample messages to generate", DefaultValueFactory = _ => 300 };
        var output = new Option<DirectoryInfo?>("--output", "-o") { Description = "The Maildir to deliver into: a new or empty folder (default ./demo-mail, or demo-mail-2 … if it exists)" };
        var command = new Command("demo", "Generate a sample mailbox, serve it over TLS on loopback, and fetch it into ./demo-mail") { count, output };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                int n = result.GetValue(count);
                if (n is < 1 or > 1_000_000)
                    throw new CliException(ExitCodes.Usage, "--messages must be between 1 and 1,000,000");
                return await RunAsync(console, n, OutputFolder(result.GetValue(output)), cancellationToken);
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, console.Error, debugLevel: 0);
            }
        });
        return command;
    }

    /// <summary>
    /// A folder of this run's own: each demo generates a new mailbox with a new state, so delivering
    /// into an earlier run's folder would add a second copy of everything beside the first.
    /// </summary>
    private static DirectoryInfo OutputFolder(DirectoryInfo? given)
    {
        static bool Empty(DirectoryInfo folder) => !folder.Exists || !folder.EnumerateFileSystemInfos().Any();
        if (given is not null)
        {
            return Empty(given) ? given
                : throw new CliException(ExitCodes.Usage, $"--output {given.FullName} is not empty: give a new or empty folder (each demo fetches a newly generated mailbox)");
        }

        for (int i = 1; ; i++)
        {
            var candidate = new DirectoryInfo(i == 1 ? "demo-mail" : string.Create(CultureInfo.InvariantCulture, $"demo-mail-{i}"));
            if (Empty(candidate))
                return candidate;
        }
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
            say.WriteLine($"Mailbox:      {listing.Count} messages, {total:N0} octets as the server sends them (CRLF line ends)");
            say.WriteLine();
            await ShowHeadersAsync(client, listing.Take(5), say, cancellationToken);
            if (listing.Count > 5)
                say.WriteLine($"  … and {listing.Count - 5} more");
            say.WriteLine();

            await client.QuitAsync(cancellationToken);

            // The download is poplib fetch itself: pipelined RETRs into the Maildir in durable groups,
            // with the UIDL state that makes a second run fetch nothing.
            string ca = Path.Combine(work, "server.pem");
            await File.WriteAllTextAsync(ca, server.Certificate.ExportCertificatePem(), cancellationToken);
            var before = ExistingFiles(output.FullName);
            var account = new AccountSettings("demo", DemoConnection(server.Port, ca), () => password,
                Poplib.Fetch.FetchDestination.Maildir(output.FullName), new Poplib.Fetch.FetchPolicy());
            using StateLocation state = StateLocation.From(Path.Combine(work, "state", "fetch.sqlite"), null);
            var download = Stopwatch.StartNew();
            int code = await FetchRunner.RunAsync([account], state, 1, console.IsTerminal ? OutputMode.Live : OutputMode.Summary, console, cancellationToken);
            TimeSpan elapsed = download.Elapsed;
            if (code != ExitCodes.Ok)
                return code;

            string[] delivered = [.. ExistingFiles(output.FullName).Except(before).Order(StringComparer.Ordinal)];
            long bytes = delivered.Sum(f => new FileInfo(f).Length);
            say.WriteLine();
            say.WriteLine($"Delivered:    {delivered.Length} messages, {bytes:N0} octets on disk (LF line ends, as Maildir keeps them) into {output.FullName}");
            say.WriteLine("              (Maildir delivery: tmp/, one fsync for the group, state, rename into new/)");
            int identical = CountIdentical(delivered, originals);
            say.WriteLine($"Verified:     {identical}/{originals.Length} byte-identical to the originals");
            say.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Time:         {elapsed.TotalSeconds:0.00} s to fetch ({bytes / 1048576.0 / elapsed.TotalSeconds:0.0} MiB/s, {delivered.Length / elapsed.TotalSeconds:0} messages/s); {clock.Elapsed.TotalSeconds:0.00} s in all"));

            int again = await FetchRunner.RunAsync([account], state, 1, OutputMode.Quiet, console, cancellationToken);
            int more = ExistingFiles(output.FullName).Except(before).Count() - delivered.Length;
            say.WriteLine($"Second fetch: {more} new messages (the UIDL state knows all {listing.Count}; nothing is fetched twice)");
            return identical == originals.Length && delivered.Length == originals.Length && again == ExitCodes.Ok && more == 0 ? ExitCodes.Ok : ExitCodes.Internal;
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

    private static HashSet<string> ExistingFiles(string maildir) =>
        Directory.Exists(Path.Combine(maildir, "new")) ? [.. Directory.GetFiles(Path.Combine(maildir, "new"))] : [];

    /// <summary>How many originals have a byte-identical delivered copy (each copy matched once).</summary>
    private static int CountIdentical(IEnumerable<string> delivered, IEnumerable<string> originals)
    {
        var copies = delivered.Select(f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))).GroupBy(h => h).ToDictionary(g => g.Key, g => g.Count());
        int identical = 0;
        foreach (string original in originals)
        {
            string hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(original)));
            if (copies.TryGetValue(hash, out int left) && left > 0)
            {
                copies[hash] = left - 1;
                identical++;
            }
        }

        return identical;
    }

    private static ConnectionSettings DemoConnection(int port, string ca) => new(
        Host: "localhost", Port: port, ImplicitTls: true, StartTls: false, User: "demo", PasswordEnv: null, PasswordFile: null, Auth: null,
        CaFile: ca, InsecureSkipVerify: false, AllowInsecureAuth: false, Timeout: TimeSpan.FromSeconds(60), DebugLevel: 0);

    private static Pop3ClientOptions Trusting(X509Certificate2 certificate)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificate(certificate.RawData));
        return new Pop3ClientOptions { SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy } };
    }
}
