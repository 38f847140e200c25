using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Poplib;
using Poplib.Demo;

// The demo behind `scripts/demo.sh`:
//   Poplib.Demo generate DIR COUNT          writes a sample mailbox
//   Poplib.Demo fetch PORT CERT USER PASSWORD SOURCE_DIR OUT_DIR
//                                            logs in over STLS (verifying CERT), downloads every message
//                                            into a Maildir, checks each against SOURCE_DIR byte for byte
if (args is ["generate", string directory, string countText])
{
    SampleMailbox.Write(directory, int.Parse(countText, CultureInfo.InvariantCulture));
    return 0;
}

if (args is not ["fetch", string portText, string certificatePath, string user, string password, string sourceDirectory, string outputDirectory])
{
    Console.Error.WriteLine("usage: Poplib.Demo generate DIR COUNT | fetch PORT CERT USER PASSWORD SOURCE_DIR OUT_DIR");
    return 2;
}

// Trust exactly the demo server's self-signed certificate, with the normal chain and name checks.
var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
policy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificateFromFile(certificatePath));
var options = new Pop3ClientOptions { SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy } };

var clock = Stopwatch.StartNew();
await using Pop3Client client = await Pop3Client.ConnectAsync("localhost", int.Parse(portText, CultureInfo.InvariantCulture), options);
Console.WriteLine($"Connected:     {client.Welcome}");
await client.StlsAsync();
Console.WriteLine($"TLS:           {client.SslProtocol} (certificate verified)");
await client.UserAsync(user);
await client.PassAsync(password);
Console.WriteLine($"Capabilities:  {client.Capabilities}");

IReadOnlyList<Pop3ListEntry> listing = await client.ListAsync();
Pop3MailboxStatus status = await client.StatAsync();
Console.WriteLine($"Mailbox:       {status.Count} messages, {status.Size:N0} octets");
Console.WriteLine();
Console.WriteLine("   #      octets  first line of the message");
foreach (Pop3ListEntry entry in listing.Take(5))
{
    Pop3Message head = await client.TopAsync(entry.Number, 0);
    string subject = head.Lines.Select(l => System.Text.Encoding.UTF8.GetString(l.Span)).FirstOrDefault(l => l.StartsWith("Subject:", StringComparison.Ordinal)) ?? "";
    Console.WriteLine($"{entry.Number,4} {entry.Size,11:N0}  {subject}");
}

if (listing.Count > 5)
    Console.WriteLine($"   … and {listing.Count - 5} more");
Console.WriteLine();

// Deliver into a Maildir: write to tmp/, then rename into new/ (the Maildir protocol).
foreach (string sub in new[] { "tmp", "new", "cur" })
    Directory.CreateDirectory(Path.Combine(outputDirectory, sub));
string[] sources = Directory.GetFiles(sourceDirectory).Order(StringComparer.Ordinal).ToArray();
long bytes = 0;
int identical = 0;
var downloadClock = Stopwatch.StartNew();
foreach (Pop3ListEntry entry in listing)
{
    string name = $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.poplib-demo-{entry.Number:D6}.localhost";
    string temporary = Path.Combine(outputDirectory, "tmp", name);
    await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
    {
        bytes += await client.RetrToAsync(entry.Number, file);
        file.Flush(flushToDisk: true);
    }

    string delivered = Path.Combine(outputDirectory, "new", name);
    File.Move(temporary, delivered);
    if (File.ReadAllBytes(delivered).AsSpan().SequenceEqual(File.ReadAllBytes(sources[entry.Number - 1])))
        identical++;
    if (!Console.IsOutputRedirected && (entry.Number % 10 == 0 || entry.Number == listing.Count))
        Console.Write($"\rDownloading:   {entry.Number}/{listing.Count} messages, {bytes / 1048576.0:0.0} MiB");
}

if (Console.IsOutputRedirected)
    Console.Write($"Downloaded:    {listing.Count} messages, {bytes / 1048576.0:0.0} MiB");

TimeSpan downloadTime = downloadClock.Elapsed;
await client.QuitAsync();
Console.WriteLine();
Console.WriteLine();
Console.WriteLine($"Delivered:     {listing.Count} messages, {bytes:N0} octets into {Path.GetFullPath(outputDirectory)}");
Console.WriteLine($"Verified:      {identical}/{sources.Length} byte-identical to the originals");
Console.WriteLine($"Time:          {downloadTime.TotalSeconds:0.00} s download ({bytes / 1048576.0 / downloadTime.TotalSeconds:0.0} MiB/s, {listing.Count / downloadTime.TotalSeconds:0} msgs/s), {clock.Elapsed.TotalSeconds:0.00} s in all");
return identical == sources.Length && listing.Count == sources.Length ? 0 : 1;
