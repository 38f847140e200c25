using System.Net.Security;
using Poplib.Tests.Certificates;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Interop;

/// <summary>
/// Trusted roots and pins against a real Dovecot and the self-signed certificate openssl made for it:
/// its PEM file as the trusted root, its fingerprints as openssl computes them, over implicit TLS and
/// STLS, sync and async.
/// </summary>
[Collection(nameof(DovecotCollection))]
public class DovecotCertificateTests(DovecotFixture fixture)
{
    private DovecotInstance Dovecot => fixture.Server;

    public static TheoryData<bool, bool> PathsAndLinks => new() { { false, true }, { true, true }, { false, false }, { true, false } };

    [DovecotTheory]
    [MemberData(nameof(PathsAndLinks))]
    public async Task Its_certificate_file_as_a_trusted_root_and_openssls_fingerprints_as_pins_log_in(bool async, bool implicitTls)
    {
        (string user, string password) = Dovecot.AddUser([SampleMail.Message(1)]);
        // Computed by openssl from the file, not by the code under test: curl's recipe and openssl's fingerprint.
        string spki = CertificatePinTests.Shell($"openssl x509 -in '{Dovecot.CertificateFile}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64");
        string fingerprint = CertificatePinTests.Shell($"openssl x509 -in '{Dovecot.CertificateFile}' -noout -fingerprint -sha256").Split('=')[1];

        foreach (string pin in new[] { "sha256:" + spki, "sha256//" + spki, "sha256:" + fingerprint })
        {
            var options = Options(pin);
            using Pop3Client client = await Open(async, implicitTls, options);
            Assert.True(client.IsEncrypted);
            await DovecotTests.UserPassAndStat(async, client, user, password, 1);
            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }
    }

    [DovecotTheory]
    [MemberData(nameof(PathsAndLinks))]
    public async Task A_pin_mismatch_is_refused_naming_both_fingerprints(bool async, bool implicitTls)
    {
        CertificatePin wrong = CertificatePin.ForPublicKey(TestPki.Shared.Issue("localhost"));
        var refused = await Assert.ThrowsAsync<Pop3CertificateException>(() => Open(async, implicitTls, Options(wrong.ToString())));

        Assert.Equal(Pop3CertificateFailure.PinMismatch, refused.Reason);
        Assert.Contains(wrong.ToString(), refused.Message, StringComparison.Ordinal);
        Assert.Contains(CertificatePin.ForPublicKey(Dovecot.Certificate).ToString(), refused.Message, StringComparison.Ordinal);
        Assert.Contains(CertificatePin.ForCertificate(Dovecot.Certificate).ToString(), refused.Message, StringComparison.Ordinal);
    }

    [DovecotTheory]
    [MemberData(nameof(PathsAndLinks))]
    public async Task Another_root_is_refused_and_the_refusal_carries_dovecots_certificate(bool async, bool implicitTls)
    {
        var options = new Pop3ClientOptions { TrustedCertificates = [TestPki.Shared.Root], Timeout = TimeSpan.FromSeconds(20) };
        var refused = await Assert.ThrowsAsync<Pop3CertificateException>(() => Open(async, implicitTls, options));

        Assert.Equal(Pop3CertificateFailure.Untrusted, refused.Reason);
        Assert.Equal(Dovecot.Certificate.RawData, refused.Certificate!.RawData);
    }

    [DovecotTheory]
    [MemberData(nameof(PathsAndLinks))]
    public async Task A_name_the_certificate_does_not_give_is_refused_even_when_trusted_and_pinned(bool async, bool implicitTls)
    {
        Pop3ClientOptions options = Options(CertificatePin.ForPublicKey(Dovecot.Certificate).ToString());
        options.SslOptions = new SslClientAuthenticationOptions { TargetHost = "pop.example.org" };

        var refused = await Assert.ThrowsAsync<Pop3CertificateException>(() => Open(async, implicitTls, options));

        Assert.Equal(Pop3CertificateFailure.NameMismatch, refused.Reason);
        Assert.Contains("pop.example.org", refused.Message, StringComparison.Ordinal);
    }

    private Pop3ClientOptions Options(string pin) => new()
    {
        TrustedCertificates = CertificateFile.Load(Dovecot.CertificateFile),
        PinnedCertificates = [CertificatePin.Parse(pin)],
        Timeout = TimeSpan.FromSeconds(20),
    };

    private Task<Pop3Client> Open(bool async, bool implicitTls, Pop3ClientOptions options) =>
        Both.ConnectTls(async, "localhost", implicitTls ? Dovecot.TlsPort : Dovecot.PlainPort, implicitTls, options);
}
