using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Certificates;

/// <summary>CertificatePin's text forms, and its digests against openssl's for the same certificate.</summary>
public class CertificatePinTests
{
    private static readonly X509Certificate2 Leaf = TestPki.Shared.Issue("localhost");

    [Fact]
    public void Every_documented_form_is_read_and_the_encoding_says_the_kind()
    {
        CertificatePin key = CertificatePin.ForPublicKey(Leaf);
        CertificatePin whole = CertificatePin.ForCertificate(Leaf);
        string base64 = Convert.ToBase64String(key.Sha256.Span);
        string hex = Convert.ToHexString(whole.Sha256.Span);
        string colons = string.Join(':', Enumerable.Range(0, 32).Select(i => hex.Substring(i * 2, 2)));

        Assert.Equal(key, CertificatePin.Parse("sha256:" + base64));
        Assert.Equal(key, CertificatePin.Parse("sha256//" + base64));          // curl's --pinnedpubkey
        Assert.Equal(key, CertificatePin.Parse("SHA256:" + base64.TrimEnd('='))); // padding optional
        Assert.Equal(key, CertificatePin.Parse("  sha256:" + base64 + "\n"));
        Assert.Equal(whole, CertificatePin.Parse("sha256:" + hex));
        Assert.Equal(whole, CertificatePin.Parse("sha256:" + hex.ToLowerInvariant()));
        Assert.Equal(whole, CertificatePin.Parse("sha256:" + colons));         // openssl x509 -fingerprint -sha256
        Assert.Equal(CertificatePinKind.PublicKey, key.Kind);
        Assert.Equal(CertificatePinKind.Certificate, whole.Kind);
        Assert.NotEqual(key, whole);

        // ToString gives back what Parse reads.
        Assert.Equal("sha256:" + base64, key.ToString());
        Assert.Equal("sha256:" + colons, whole.ToString());
        Assert.Equal(key, CertificatePin.Parse(key.ToString()));
        Assert.Equal(whole, CertificatePin.Parse(whole.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("sha256:")]
    [InlineData("md5:0123456789abcdef0123456789abcdef")]
    [InlineData("sha1:0123456789abcdef0123456789abcdef01234567")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]              // no prefix
    [InlineData("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde")]        // 63 digits
    [InlineData("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg")]       // not hex
    [InlineData("sha256:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:e:f")] // colon misplaced
    [InlineData("sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")]                            // base64 of 31 octets
    [InlineData("sha256//0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]      // curl's form takes base64 only
    [InlineData("sha256:not a fingerprint\u001b[2J")]
    public void Anything_else_is_a_FormatException_quoting_the_value(string text)
    {
        Assert.False(CertificatePin.TryParse(text, out _));
        var error = Assert.Throws<FormatException>(() => CertificatePin.Parse(text));
        Assert.DoesNotContain('\u001b', error.Message);
        Assert.Contains("sha256:", error.Message, StringComparison.Ordinal);
        if (text.Length > 0 && !text.Contains('\u001b'))
            Assert.Contains(text, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_digests_are_what_openssl_computes_for_the_same_certificate()
    {
        string pem = Path.GetTempFileName();
        try
        {
            File.WriteAllText(pem, Leaf.ExportCertificatePem());
            // curl's documented recipe for --pinnedpubkey, and openssl's certificate fingerprint.
            string spki = Shell($"openssl x509 -in '{pem}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64");
            string fingerprint = Shell($"openssl x509 -in '{pem}' -noout -fingerprint -sha256");

            Assert.Equal("sha256:" + spki, CertificatePin.ForPublicKey(Leaf).ToString());
            Assert.Equal("sha256 Fingerprint=" + CertificatePin.ForCertificate(Leaf).ToString()["sha256:".Length..], fingerprint, ignoreCase: true);
        }
        finally
        {
            File.Delete(pem);
        }
    }

    internal static string Shell(string command)
    {
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        using Process process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{command} failed: {process.StandardError.ReadToEnd()}");
        return output.Trim();
    }
}
