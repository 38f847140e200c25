using System.Security.Cryptography.X509Certificates;
using Poplib.Testing;
using Poplib.Tests.Cli;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Certificates;

/// <summary>
/// Trusted certificates (<c>--ca-file</c>, <see cref="Pop3ClientOptions.TrustedCertificates"/>) are
/// checked first and the system's roots only when they do not vouch for the server — which saves
/// loading the system's store on every short session — but they are added to the system's roots,
/// never put in their place. A process's system store is read once and kept, so each case runs
/// <c>poplib</c> as its own process, with OpenSSL's <c>SSL_CERT_FILE</c>/<c>SSL_CERT_DIR</c> naming
/// the "system" roots it is to have.
/// </summary>
public sealed class SystemRootsBesideTrustedCertificatesTests : IDisposable
{
    private const string PasswordVariable = "POPLIB_SYSTEM_ROOTS_TEST_PW";
    private readonly string _folder = Directory.CreateTempSubdirectory("poplib-system-roots-").FullName;
    private readonly TestPki _systemCa = TestPki.CreateOther();
    private readonly TestPki _privateCa = TestPki.Shared;

    [Fact]
    public async Task A_server_the_system_roots_vouch_for_is_accepted_although_the_trusted_certificate_is_another()
    {
        CliProcess.Outcome outcome = await StatAsync(serverCa: _systemCa, systemRoots: [_systemCa.Root], trusted: _privateCa.Root);

        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Equal("1 messages, 20 octets\n", outcome.Out);
    }

    [Fact]
    public async Task A_server_the_trusted_certificate_vouches_for_is_accepted_without_the_system_roots()
    {
        CliProcess.Outcome outcome = await StatAsync(serverCa: _privateCa, systemRoots: [_systemCa.Root], trusted: _privateCa.Root);

        Assert.True(outcome.ExitCode == 0, outcome.Error);
    }

    [Fact]
    public async Task A_server_neither_vouches_for_is_refused_naming_the_system_roots_problem()
    {
        // The control for the first case: the same server and --ca-file, the system store without its root.
        CliProcess.Outcome outcome = await StatAsync(serverCa: _systemCa, systemRoots: [], trusted: _privateCa.Root);

        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("not trusted", outcome.Error, StringComparison.Ordinal);
        Assert.Empty(outcome.Out);
    }

    private async Task<CliProcess.Outcome> StatAsync(TestPki serverCa, X509Certificate2[] systemRoots, X509Certificate2 trusted)
    {
        await using Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions
        {
            Tls = Pop3TlsMode.Implicit,
            Certificate = serverCa.Issue("localhost"),
        });
        server.AddUser("alice", "roots-secret", Pop3Mailbox.FromMessages(["Subject: a\r\n\r\nbody\r\n"u8.ToArray()]));

        string bundle = Path.Combine(_folder, $"system-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(bundle, string.Concat(systemRoots.Select(root => root.ExportCertificatePem() + "\n")));
        string caFile = Path.Combine(_folder, $"trusted-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(caFile, trusted.ExportCertificatePem());
        string emptyDirectory = Directory.CreateDirectory(Path.Combine(_folder, "no-certs")).FullName;

        return await CliProcess.RunAsync(
            ["stat", "--host", "localhost", "--port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--ssl",
             "--user", "alice", "--password-env", PasswordVariable, "--ca-file", caFile],
            environment: new Dictionary<string, string>
            {
                [PasswordVariable] = "roots-secret",
                ["SSL_CERT_FILE"] = bundle,
                ["SSL_CERT_DIR"] = emptyDirectory,
            });
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
