using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Poplib.Cli;
using Poplib.Testing;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Cli;

/// <summary>--ca-file, --tls-fingerprint and capa --show-certificate against the in-process server.</summary>
public sealed class CliCertificateTests : IDisposable
{
    private const string PasswordVariable = "POPLIB_CERT_TEST_PW";
    private readonly string _folder = Directory.CreateTempSubdirectory("poplib-cli-cert-").FullName;

    [Theory]
    [InlineData(Pop3TlsMode.Implicit)]
    [InlineData(Pop3TlsMode.StartTls)]
    public async Task A_matching_fingerprint_logs_in_and_a_wrong_one_is_refused_naming_both(Pop3TlsMode mode)
    {
        X509Certificate2 leaf = TestPki.Shared.Issue("localhost");
        await using Pop3TestServer server = await StartAsync(mode, leaf);
        string key = CertificatePin.ForPublicKey(leaf).ToString();
        string wrong = CertificatePin.ForCertificate(TestPki.Shared.Issue("localhost")).ToString();

        CliRunner.Outcome pinned = await CliRunner.RunAsync([.. Stat(server, mode), "--ca-file", RootFile(), "--tls-fingerprint", wrong, "--tls-fingerprint", key]);
        Assert.True(pinned.ExitCode == 0, pinned.Error);
        Assert.Contains("1 message", pinned.Out, StringComparison.Ordinal);

        CliRunner.Outcome refused = await CliRunner.RunAsync([.. Stat(server, mode), "--ca-file", RootFile(), "--tls-fingerprint", wrong]);
        Assert.Equal(ExitCodes.Connection, refused.ExitCode);
        Assert.Contains("matches no --tls-fingerprint", refused.Error, StringComparison.Ordinal);
        Assert.Contains(wrong, refused.Error, StringComparison.Ordinal);
        Assert.Contains(key, refused.Error, StringComparison.Ordinal);
        Assert.Contains(CertificatePin.ForCertificate(leaf).ToString(), refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_fingerprint_does_not_replace_the_ca_file_and_a_wrong_host_name_is_refused_with_both()
    {
        await using Pop3TestServer server = await StartAsync(Pop3TlsMode.Implicit, certificate: null);
        string pin = CertificatePin.ForPublicKey(server.Certificate).ToString();

        CliRunner.Outcome pinOnly = await CliRunner.RunAsync([.. Stat(server, Pop3TlsMode.Implicit), "--tls-fingerprint", pin]);
        Assert.Equal(ExitCodes.Connection, pinOnly.ExitCode);
        Assert.Contains("is not trusted", pinOnly.Error, StringComparison.Ordinal);
        Assert.Contains("--show-certificate", pinOnly.Error, StringComparison.Ordinal);

        string self = Write("self.pem", server.Certificate.ExportCertificatePem());
        CliRunner.Outcome both = await CliRunner.RunAsync([.. Stat(server, Pop3TlsMode.Implicit), "--ca-file", self, "--tls-fingerprint", pin]);
        Assert.True(both.ExitCode == 0, both.Error);

        X509Certificate2 elsewhere = TestPki.Shared.Issue("mail.example.org");
        await using Pop3TestServer misnamed = await StartAsync(Pop3TlsMode.Implicit, elsewhere);
        CliRunner.Outcome wrongName = await CliRunner.RunAsync([.. Stat(misnamed, Pop3TlsMode.Implicit), "--ca-file", RootFile(), "--tls-fingerprint", CertificatePin.ForPublicKey(elsewhere).ToString()]);
        Assert.Equal(ExitCodes.Connection, wrongName.ExitCode);
        Assert.Contains("not valid for the host name localhost", wrongName.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("stat")]
    [InlineData("list")]
    [InlineData("uidl")]
    [InlineData("capa")]
    [InlineData("fetch")]
    public async Task Every_command_that_connects_refuses_a_bad_fingerprint_before_connecting(string command)
    {
        string[] extra = command == "fetch" ? ["--maildir", Path.Combine(_folder, "mail")] : [];
        CliRunner.Outcome outcome = await CliRunner.RunAsync([command, "pops://alice@127.0.0.1:1", "--password-env", PasswordVariable, "--tls-fingerprint", "sha256:deadbeef", .. extra]);
        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.Contains("--tls-fingerprint: 'sha256:deadbeef' is not a certificate fingerprint", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ca_file_without_a_certificate_is_a_usage_error_naming_it()
    {
        string file = Write("not-a-cert.pem", "-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n");
        CliRunner.Outcome outcome = await CliRunner.RunAsync("capa", "pops://127.0.0.1:1", "--ca-file", file);
        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.Contains($"--ca-file {file} holds a malformed certificate", outcome.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Pop3TlsMode.Implicit)]
    [InlineData(Pop3TlsMode.StartTls)]
    public async Task Show_certificate_prints_an_untrusted_chain_and_its_fingerprints_then_exits_with_the_tls_error(Pop3TlsMode mode)
    {
        await using Pop3TestServer server = await StartAsync(mode, certificate: null);
        string[] address = mode == Pop3TlsMode.Implicit ? [$"pops://alice@localhost:{server.Port}"] : [$"pop://alice@localhost:{server.Port}"];

        // --user given and no password anywhere: a login attempt would be a usage error, not exit 3.
        CliRunner.Outcome shown = await CliRunner.RunAsync(["capa", .. address, "--show-certificate", "--password-env", "POPLIB_CERT_TEST_UNSET"]);

        Assert.Equal(ExitCodes.Connection, shown.ExitCode);
        Assert.Contains("NOT trusted", shown.Out, StringComparison.Ordinal);
        Assert.Contains("Subject:     CN=localhost", shown.Out, StringComparison.Ordinal);
        Assert.Contains("Names:       localhost, 127.0.0.1", shown.Out, StringComparison.Ordinal);
        Assert.Contains($"--tls-fingerprint {CertificatePin.ForPublicKey(server.Certificate)}", shown.Out, StringComparison.Ordinal);
        Assert.Contains($"--tls-fingerprint {CertificatePin.ForCertificate(server.Certificate)}", shown.Out, StringComparison.Ordinal);
        Assert.Contains(server.Certificate.ExportCertificatePem(), shown.Out, StringComparison.Ordinal);
        Assert.Contains("is not trusted", shown.Error, StringComparison.Ordinal);

        // What it printed is what the options take: the PEM as --ca-file, the fingerprint as --tls-fingerprint.
        string pem = Write("shown.pem", shown.Out);
        string fingerprint = shown.Out.Split('\n').First(l => l.Contains("Public key:", StringComparison.Ordinal)).Split("--tls-fingerprint ")[1].Trim();
        string anonymous = address[0].Replace("alice@", "", StringComparison.Ordinal);
        CliRunner.Outcome capa = await CliRunner.RunAsync("capa", anonymous, "--ca-file", pem, "--tls-fingerprint", fingerprint);
        Assert.True(capa.ExitCode == 0, capa.Error);
        Assert.Contains("TLS: Tls", capa.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_certificate_json_gives_the_chain_of_a_trusted_server_up_to_its_root()
    {
        X509Certificate2 leaf = TestPki.Shared.Issue("localhost");
        await using Pop3TestServer server = await StartAsync(Pop3TlsMode.Implicit, leaf);

        CliRunner.Outcome shown = await CliRunner.RunAsync("capa", $"pops://localhost:{server.Port}", "--ca-file", RootFile(), "--show-certificate", "--json");

        Assert.True(shown.ExitCode == 0, shown.Error);
        using JsonDocument document = JsonDocument.Parse(shown.Out);
        JsonElement root = document.RootElement;
        Assert.True(root.GetProperty("trusted").GetBoolean());
        Assert.Equal($"localhost:{server.Port}", root.GetProperty("server").GetString());
        JsonElement[] chain = [.. root.GetProperty("certificates").EnumerateArray()];
        Assert.Equal(2, chain.Length);
        Assert.Equal("CN=localhost", chain[0].GetProperty("subject").GetString());
        Assert.Equal(["localhost", "127.0.0.1"], chain[0].GetProperty("names").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(CertificatePin.ForPublicKey(leaf).ToString(), chain[0].GetProperty("publicKeySha256").GetString());
        Assert.Equal(CertificatePin.ForCertificate(leaf).ToString(), chain[0].GetProperty("certificateSha256").GetString());
        Assert.Equal(TestPki.Shared.Root.Subject, chain[1].GetProperty("subject").GetString());
        Assert.Equal(leaf.NotAfter.ToUniversalTime(), DateTime.Parse(chain[0].GetProperty("notAfter").GetString()!, null, System.Globalization.DateTimeStyles.AdjustToUniversal), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Show_certificate_json_of_a_refused_server_says_why_and_exits_3()
    {
        await using Pop3TestServer server = await StartAsync(Pop3TlsMode.Implicit, TestPki.CreateOther().Issue("localhost"));
        CliRunner.Outcome shown = await CliRunner.RunAsync("capa", $"pops://localhost:{server.Port}", "--show-certificate", "--json");

        Assert.Equal(ExitCodes.Connection, shown.ExitCode);
        using JsonDocument document = JsonDocument.Parse(shown.Out);
        Assert.False(document.RootElement.GetProperty("trusted").GetBoolean());
        Assert.Contains("not trusted", document.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Single(document.RootElement.GetProperty("certificates").EnumerateArray());
    }

    [Fact]
    public async Task Show_certificate_escapes_what_a_terminal_would_obey()
    {
        X509Certificate2 hostile = HostileCertificate();
        await using Pop3TestServer server = await StartAsync(Pop3TlsMode.Implicit, hostile);
        CliRunner.Outcome shown = await CliRunner.RunAsync("capa", $"pops://localhost:{server.Port}", "--show-certificate");

        Assert.Equal(ExitCodes.Connection, shown.ExitCode);
        Assert.DoesNotContain('\u001b', shown.Out + shown.Error);
        Assert.DoesNotContain('\u202e', shown.Out + shown.Error);
        Assert.Contains("\\x1b]0;pwned", shown.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fetch_takes_tls_fingerprints_on_the_command_line_and_in_its_config_file()
    {
        X509Certificate2 leaf = TestPki.Shared.Issue("localhost");
        await using Pop3TestServer server = await StartAsync(Pop3TlsMode.Implicit, leaf);
        string pin = CertificatePin.ForPublicKey(leaf).ToString();
        string wrong = CertificatePin.ForPublicKey(TestPki.Shared.Issue("localhost")).ToString();

        CliRunner.Outcome byOption = await CliRunner.RunAsync("fetch", $"pops://alice@localhost:{server.Port}", "--password-env", PasswordVariable, "--ca-file", RootFile(),
            "--tls-fingerprint", wrong, "--maildir", Path.Combine(_folder, "m1"), "--state", Path.Combine(_folder, "s1.sqlite"), "--quiet");
        Assert.Equal(ExitCodes.Connection, byOption.ExitCode);
        Assert.Contains(wrong, byOption.Error, StringComparison.Ordinal);

        string Config(params string[] pins) => Write("fetch.json", JsonSerializer.Serialize(new
        {
            state = Path.Combine(_folder, "s2.sqlite"),
            accounts = new[]
            {
                new { name = "pinned", host = "localhost", port = server.Port, user = "alice", password = new { env = PasswordVariable }, caFile = RootFile(), tlsFingerprints = pins, maildir = Path.Combine(_folder, "m2") },
            },
        }));
        string config = Config(wrong, pin);
        CliRunner.Outcome byConfig = await CliRunner.RunAsync("fetch", "--config", config, "--quiet");
        Assert.True(byConfig.ExitCode == 0, byConfig.Error);
        Assert.Single(Directory.GetFiles(Path.Combine(_folder, "m2", "new")));

        Config(wrong, "sha256:0000");
        CliRunner.Outcome badConfig = await CliRunner.RunAsync("fetch", "--config", config, "--quiet");
        Assert.Equal(ExitCodes.Config, badConfig.ExitCode);
        Assert.Contains("pinned: \"tlsFingerprints\": 'sha256:0000' is not a certificate fingerprint", badConfig.Error, StringComparison.Ordinal);

        CliRunner.Outcome mixed = await CliRunner.RunAsync("fetch", "--config", config, "--tls-fingerprint", pin);
        Assert.Equal(ExitCodes.Usage, mixed.ExitCode);
        Assert.Contains("--tls-fingerprint cannot be combined with --config", mixed.Error, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static async Task<Pop3TestServer> StartAsync(Pop3TlsMode mode, X509Certificate2? certificate)
    {
        Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = mode, Certificate = certificate });
        server.AddUser("alice", "cert-secret", Pop3Mailbox.FromMessages(["Subject: one\r\n\r\nbody\r\n"u8.ToArray()]));
        Environment.SetEnvironmentVariable(PasswordVariable, "cert-secret");
        return server;
    }

    private static string[] Stat(Pop3TestServer server, Pop3TlsMode mode) =>
        ["stat", mode == Pop3TlsMode.Implicit ? $"pops://alice@localhost:{server.Port}" : $"pop://alice@localhost:{server.Port}", "--password-env", PasswordVariable];

    private string RootFile() => Write("root.pem", TestPki.Shared.Root.ExportCertificatePem());

    private string Write(string name, string content)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        return path;
    }

    // A self-signed certificate whose subject carries an OSC title sequence and a bidi override.
    private static X509Certificate2 HostileCertificate()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var name = new X500DistinguishedNameBuilder();
        name.AddOrganizationName("Evil\u001b]0;pwned\u0007 \u202eCorp");
        name.AddCommonName("localhost");
        var request = new CertificateRequest(name.Build(), key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }
}
