using System.Text.RegularExpressions;
using Poplib.Cli;
using Poplib.Tests.Interop;

namespace Poplib.Tests.Cli;

/// <summary><c>poplib demo</c> and <c>poplib serve</c>, run for real.</summary>
public class CliServeAndDemoTests
{
    [Fact]
    public async Task Demo_fetches_every_message_byte_identical_with_fetch_and_nothing_twice()
    {
        string output = Path.Combine(Path.GetTempPath(), "poplib-demo-test-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            CliRunner.Outcome outcome = await CliRunner.RunAsync("demo", "--messages", "60", "--output", output);
            Assert.True(outcome.ExitCode == 0, outcome.Out + outcome.Error);
            Assert.Contains("Verified:     60/60 byte-identical", outcome.Out);
            Assert.Contains("certificate verified", outcome.Out);
            Assert.Matches(@"demo\s+60\s+[\d,]+\s+0\s+[\d.]+s\s+ok", outcome.Out); // fetch's summary table
            Assert.Contains("Second fetch: 0 new messages", outcome.Out);
            Assert.Equal(60, Directory.GetFiles(Path.Combine(output, "new")).Length);
            Assert.Empty(Directory.GetFiles(Path.Combine(output, "tmp")));
            Assert.Contains("octets as the server sends them (CRLF line ends)", outcome.Out);
            Assert.Contains("octets on disk (LF line ends", outcome.Out);

            // A second demo into the same folder would put a second mailbox beside the first.
            CliRunner.Outcome again = await CliRunner.RunAsync("demo", "--messages", "5", "--output", output);
            Assert.Equal(ExitCodes.Usage, again.ExitCode);
            Assert.Contains("is not empty", again.Error);
            Assert.Equal(60, Directory.GetFiles(Path.Combine(output, "new")).Length);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_serves_a_maildir_until_cancelled()
    {
        string maildir = Path.Combine(Path.GetTempPath(), "poplib-serve-test-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (string sub in new[] { "cur", "new", "tmp" })
            Directory.CreateDirectory(Path.Combine(maildir, sub));
        byte[] first = SampleMail.Message(1);
        byte[] second = SampleMail.Tricky();
        File.WriteAllBytes(Path.Combine(maildir, "cur", "0001.eml"), first);
        File.WriteAllBytes(Path.Combine(maildir, "new", "0002.eml"), second);
        string certificate = Path.Combine(maildir, "server.pem");
        Environment.SetEnvironmentVariable("POPLIB_SERVE_TEST_PW", "serve-secret");

        var output = new StringWriter();
        var warnings = new StringWriter();
        var console = new CliConsole(TextWriter.Synchronized(output), TextWriter.Synchronized(warnings), new StringReader(""), () => Stream.Null, isTerminal: false);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Task<int> serving = CliApp.RunAsync(
            ["serve", "--maildir", maildir, "--user", "bob", "--password-env", "POPLIB_SERVE_TEST_PW", "--write-certificate", certificate], console, stop.Token);
        try
        {
            int port = await WaitForPortAsync(output, serving);
            var options = new Pop3ClientOptions { SslOptions = Infrastructure.TestCertificates.Trusting(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(certificate))) };
            using Pop3Client client = await Pop3Client.ConnectAsync("localhost", port, options);
            await client.StlsAsync();
            await client.LoginAsync("bob", "serve-secret");
            Assert.Equal(2, (await client.StatAsync()).Count);
            Assert.Equal(first, (await client.RetrAsync(1)).ToArray());
            Assert.Equal(second, (await client.RetrAsync(2)).ToArray());
            await client.QuitAsync();
            Assert.Contains("WARNING: a client's DELE removes files", warnings.ToString());
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await serving);
            Directory.Delete(maildir, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_read_only_refuses_dele_and_keeps_every_file()
    {
        string maildir = Path.Combine(Path.GetTempPath(), "poplib-serve-ro-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (string sub in new[] { "cur", "new", "tmp" })
            Directory.CreateDirectory(Path.Combine(maildir, sub));
        File.WriteAllBytes(Path.Combine(maildir, "cur", "0001.eml"), SampleMail.Message(1));
        Environment.SetEnvironmentVariable("POPLIB_SERVE_TEST_PW", "serve-secret");
        var output = new StringWriter();
        var error = new StringWriter();
        var console = new CliConsole(TextWriter.Synchronized(output), TextWriter.Synchronized(error), new StringReader(""), () => Stream.Null, isTerminal: false);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Task<int> serving = CliApp.RunAsync(["serve", "--maildir", maildir, "--user", "bob", "--password-env", "POPLIB_SERVE_TEST_PW", "--tls", "none", "--read-only"], console, stop.Token);
        try
        {
            int port = await WaitForPortAsync(output, serving);
            using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", port, new Pop3ClientOptions { AllowInsecureAuthentication = true });
            await client.LoginAsync("bob", "serve-secret");
            var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => client.DeleAsync(1));
            Assert.Equal(Pop3ResponseCode.SysPerm, refused.ResponseCode);
            await client.QuitAsync();
            Assert.Single(Directory.GetFiles(Path.Combine(maildir, "cur")));
            Assert.DoesNotContain("WARNING", error.ToString());
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await serving);
            Directory.Delete(maildir, recursive: true);
        }
    }

    private static async Task<int> WaitForPortAsync(StringWriter output, Task<int> serving)
    {
        for (int i = 0; i < 200; i++)
        {
            Match match = Regex.Match(output.ToString(), @"@127\.0\.0\.1:(\d+)");
            if (match.Success)
                return int.Parse(match.Groups[1].Value);
            if (serving.IsCompleted)
                Assert.Fail("serve exited early with " + await serving);
            await Task.Delay(50);
        }

        throw new TimeoutException("serve did not say where it listens");
    }
}
