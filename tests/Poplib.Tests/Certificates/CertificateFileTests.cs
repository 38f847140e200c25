using System.Security.Cryptography.X509Certificates;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Certificates;

/// <summary>CertificateFile.Load: PEM bundles and DER files in, anything else refused naming the file.</summary>
public sealed class CertificateFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("poplib-certfile-").FullName;

    [Fact]
    public void A_pem_bundle_gives_every_certificate_and_ignores_a_key_block()
    {
        X509Certificate2 leaf = TestPki.Shared.Issue("localhost");
        string path = Write("bundle.pem", "some comment\n" + TestPki.Shared.Root.ExportCertificatePem() + "\n" + leaf.ExportCertificatePem() + "\n" +
            "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n");

        X509Certificate2Collection loaded = CertificateFile.Load(path);

        Assert.Equal([TestPki.Shared.Root.Thumbprint, leaf.Thumbprint], loaded.Select(c => c.Thumbprint));
    }

    [Fact]
    public void A_der_file_gives_its_certificate()
    {
        string path = Path.Combine(_folder, "root.der");
        File.WriteAllBytes(path, TestPki.Shared.Root.RawData);
        Assert.Equal(TestPki.Shared.Root.Thumbprint, Assert.Single(CertificateFile.Load(path)).Thumbprint);
    }

    [Theory]
    [InlineData("empty.pem", "")]
    [InlineData("sha256.txt", "sha256:AAAA\n")]
    [InlineData("key-only.pem", "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n")]
    [InlineData("garbage.pem", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")]
    [InlineData("text.crt", "hello, I am not a certificate\n")]
    public void A_file_without_a_usable_certificate_is_a_FormatException_naming_it(string name, string content)
    {
        string path = Write(name, content);
        var error = Assert.Throws<FormatException>(() => CertificateFile.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_a_FileNotFoundException()
    {
        Assert.Throws<FileNotFoundException>(() => CertificateFile.Load(Path.Combine(_folder, "missing.pem")));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string name, string content)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        return path;
    }
}
