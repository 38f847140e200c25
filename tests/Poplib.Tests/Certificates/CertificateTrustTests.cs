using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Poplib.Testing;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Certificates;

/// <summary>
/// Pop3ClientOptions.TrustedCertificates and PinnedCertificates against the in-process server, over
/// implicit TLS and STLS, down the sync and the async path: a trusted root widens trust by exactly that
/// root, a pin narrows it, a wrong host name is refused whatever else is given.
/// </summary>
public class CertificateTrustTests
{
    public static TheoryData<bool, Pop3TlsMode> Modes => Both.Paths(Pop3TlsMode.Implicit, Pop3TlsMode.StartTls);

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_certificate_from_a_trusted_root_is_accepted_and_its_chain_shown(bool async, Pop3TlsMode mode)
    {
        await using Pop3TestServer server = Start(mode, TestPki.Shared.Issue("localhost"));
        var options = new Pop3ClientOptions { TrustedCertificates = [TestPki.Shared.Root] };

        using Pop3Client client = await Open(async, mode, server, options);

        Assert.True(client.IsEncrypted);
        Assert.Equal(2, client.ServerCertificateChain.Count);
        Assert.Equal(server.Certificate.RawData, client.ServerCertificateChain[0].RawData);
        Assert.Equal(TestPki.Shared.Root.RawData, client.ServerCertificateChain[^1].RawData);
        await Both.Run(async, () => client.Capa(), () => client.CapaAsync());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task An_unknown_root_is_refused_with_what_the_server_presented(bool async, Pop3TlsMode mode)
    {
        X509Certificate2 leaf = TestPki.CreateOther().Issue("localhost");
        await using Pop3TestServer server = Start(mode, leaf);
        var options = new Pop3ClientOptions { TrustedCertificates = [TestPki.Shared.Root] };

        var refused = await Assert.ThrowsAsync<Pop3CertificateException>(() => Open(async, mode, server, options));

        Assert.Equal(Pop3CertificateFailure.Untrusted, refused.Reason);
        Assert.Equal(leaf.RawData, refused.Certificate!.RawData);
        Assert.Equal(CertificatePin.ForPublicKey(leaf), refused.PublicKeyPin);
        Assert.Contains(CertificatePin.ForPublicKey(leaf).ToString(), refused.Message, StringComparison.Ordinal);
        Assert.Contains(CertificatePin.ForCertificate(leaf).ToString(), refused.Message, StringComparison.Ordinal);
        Assert.Contains("TrustedCertificates", refused.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<AuthenticationException>(refused);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Without_trusted_certificates_a_private_root_is_refused(bool async, Pop3TlsMode mode)
    {
        await using Pop3TestServer server = Start(mode, TestPki.Shared.Issue("localhost"));
        var refused = await Assert.ThrowsAsync<Pop3CertificateException>(() => Open(async, mode, server, new Pop3ClientOptions()));
        Assert.Equal(Pop3CertificateFailure.Untrusted, refused.Reason);
        Assert.True(refused.PolicyErrors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task An_expired_certificate_from_a_trusted_root_is_refused_the_chain_is_still_checked(bool async, Pop3TlsMode mode)
    {
        X509Certificate2 expired = TestPki.Shared.Issue("localhost", notAfter: DateTimeOffset.UtcNow.AddMinutes(-5));
        await using Pop3TestServer server = Start(mode, expired);
        var options = new Pop3ClientOptions { TrustedCertificates = [TestPki.Shared.Root], PinnedCertificates = [CertificatePin.ForPublicKey(expired)] };

        var refused = await Assert.ThrowsAsync<Pop3CertificateException>(() => Open(async, mode, server, options));

        Assert.Equal(Pop3CertificateFailure.Untrusted, refused.Reason);
        Assert.Contains("expired", refused.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_wrong_host_name_is_refused_even_with_a_trusted_root_and_a_matching_pin(bool async, Pop3TlsMode mode)
    {
        X509Certificate2 leaf = TestPki.Shared.Issue("mail.example.org");
        await using Pop3TestServer server = Start(mode, leaf);
        var options = new Pop3ClientOptions { TrustedCertificates = [TestPki.Shared.Root], PinnedCertificates = [CertificatePin.ForPublicKey(leaf)] };

        var refused = await Assert.ThrowsAsync<Pop3CertificateException>(() => Open(async, mode, server, options));

        Assert.Equal(Pop3CertificateFailure.NameMismatch, refused.Reason);
        Assert.Contains("localhost", refused.Message, StringComparison.Ordinal);
        Assert.Contains("mail.example.org", refused.Message, StringComparison.Ordinal);
    }

    public static TheoryData<bool, Pop3TlsMode, CertificatePinKind> ModesAndKinds()
    {
        var data = new TheoryData<bool, Pop3TlsMode, CertificatePinKind>();
        foreach ((bool async, Pop3TlsMode mode) in new[] { (false, Pop3TlsMode.Implicit), (true, Pop3TlsMode.Implicit), (false, Pop3TlsMode.StartTls), (true, Pop3TlsMode.StartTls) })
        {
            data.Add(async, mode, CertificatePinKind.PublicKey);
            data.Add(async, mode, CertificatePinKind.Certificate);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ModesAndKinds))]
    public async Task A_matching_pin_is_accepted(bool async, Pop3TlsMode mode, CertificatePinKind kind)
    {
        X509Certificate2 leaf = TestPki.Shared.Issue("localhost");
        await using Pop3TestServer server = Start(mode, leaf);
        // Read back from text, as a user gives it.
        CertificatePin pin = CertificatePin.Parse(Pin(kind, leaf).ToString());
        var options = new Pop3ClientOptions { TrustedCertificates = [TestPki.Shared.Root], PinnedCertificates = [CertificatePin.ForPublicKey(TestPki.Shared.Issue("localhost")), pin] };

        using Pop3Client client = await Open(async, mode, server, options);
        Assert.True(client.IsEncrypted);
    }

    [Theory]
    [MemberData(nameof(ModesAndKinds))]
    public async Task A_pin_mismatch_is_refused_naming_the_pin_and_both_fingerprints(bool async, Pop3TlsMode mode, CertificatePinKind kind)
    {
        X509Certificate2 leaf = TestPki.Shared.Issue("localhost");
        X509Certificate2 other = TestPki.Shared.Issue("localhost");
        await using Pop3TestServer server = Start(mode, leaf);
        CertificatePin expected = Pin(kind, other);
        var options = new Pop3ClientOptions { TrustedCertificates = [TestPki.Shared.Root], PinnedCertificates = [expected] };

        var refused = await Assert.ThrowsAsync<Pop3CertificateException>(() => Open(async, mode, server, options));

        Assert.Equal(Pop3CertificateFailure.PinMismatch, refused.Reason);
        Assert.Equal([expected], refused.ExpectedPins);
        Assert.Contains(expected.ToString(), refused.Message, StringComparison.Ordinal);
        Assert.Contains(CertificatePin.ForPublicKey(leaf).ToString(), refused.Message, StringComparison.Ordinal);
        Assert.Contains(CertificatePin.ForCertificate(leaf).ToString(), refused.Message, StringComparison.Ordinal);
        Assert.Equal(CertificatePin.ForCertificate(leaf), refused.CertificateFingerprint);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_public_key_pin_survives_a_reissued_certificate_with_the_same_key_and_a_certificate_pin_does_not(bool async, Pop3TlsMode mode)
    {
        using ECDsa key = TestPki.NewKey();
        X509Certificate2 first = TestPki.Shared.Issue("localhost", key);
        X509Certificate2 renewed = TestPki.Shared.Issue("localhost", key);
        Assert.NotEqual(first.RawData, renewed.RawData);
        await using Pop3TestServer server = Start(mode, renewed);

        var byKey = new Pop3ClientOptions { TrustedCertificates = [TestPki.Shared.Root], PinnedCertificates = [CertificatePin.ForPublicKey(first)] };
        using (Pop3Client client = await Open(async, mode, server, byKey))
            Assert.True(client.IsEncrypted);

        var byCertificate = new Pop3ClientOptions { TrustedCertificates = [TestPki.Shared.Root], PinnedCertificates = [CertificatePin.ForCertificate(first)] };
        var refused = await Assert.ThrowsAsync<Pop3CertificateException>(() => Open(async, mode, server, byCertificate));
        Assert.Equal(Pop3CertificateFailure.PinMismatch, refused.Reason);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_self_signed_server_is_pinned_with_its_certificate_as_the_trusted_root(bool async, Pop3TlsMode mode)
    {
        // The test server's own self-signed certificate: first contact with a NAS.
        await using Pop3TestServer server = Start(mode, certificate: null);
        X509Certificate2 presented = X509CertificateLoader.LoadCertificate(server.Certificate.RawData);
        CertificatePin pin = CertificatePin.ForPublicKey(presented);

        // The pin alone does not replace the chain: pins narrow trust, never widen it.
        var pinOnly = new Pop3ClientOptions { PinnedCertificates = [pin] };
        var refused = await Assert.ThrowsAsync<Pop3CertificateException>(() => Open(async, mode, server, pinOnly));
        Assert.Equal(Pop3CertificateFailure.Untrusted, refused.Reason);
        Assert.Equal(pin, refused.PublicKeyPin);

        var trustedAndPinned = new Pop3ClientOptions { TrustedCertificates = [presented], PinnedCertificates = [pin] };
        using Pop3Client client = await Open(async, mode, server, trustedAndPinned);
        Assert.True(client.IsEncrypted);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Pins_are_checked_after_the_callers_own_callback_accepts(bool async)
    {
        X509Certificate2 leaf = TestPki.CreateOther().Issue("localhost");
        const Pop3TlsMode mode = Pop3TlsMode.Implicit;
        await using Pop3TestServer server = Start(mode, leaf);
        int calls = 0;
        var ssl = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => ++calls > 0 };

        var wrongPin = new Pop3ClientOptions { SslOptions = ssl, PinnedCertificates = [CertificatePin.ForPublicKey(TestPki.Shared.Issue("localhost"))] };
        var refused = await Assert.ThrowsAsync<Pop3CertificateException>(() => Open(async, mode, server, wrongPin));
        Assert.Equal(Pop3CertificateFailure.PinMismatch, refused.Reason);

        var rightPin = new Pop3ClientOptions { SslOptions = ssl, PinnedCertificates = [CertificatePin.ForPublicKey(leaf)] };
        using Pop3Client client = await Open(async, mode, server, rightPin);
        Assert.Equal(2, calls);
        // The caller's settings are theirs: the client validates on a copy.
        Assert.NotNull(ssl.RemoteCertificateValidationCallback);
        Assert.Null(ssl.TargetHost);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_callback_that_refuses_gives_the_typed_exception(bool async)
    {
        const Pop3TlsMode mode = Pop3TlsMode.Implicit;
        await using Pop3TestServer server = Start(mode, TestPki.Shared.Issue("localhost"));
        var options = new Pop3ClientOptions { SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => false } };
        var refused = await Assert.ThrowsAsync<Pop3CertificateException>(() => Open(async, mode, server, options));
        Assert.Equal(Pop3CertificateFailure.RejectedByCallback, refused.Reason);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Trusted_certificates_with_a_callback_of_the_callers_are_refused_before_anything_is_sent(bool async, Pop3TlsMode mode)
    {
        await using Pop3TestServer server = Start(mode, TestPki.Shared.Issue("localhost"));
        var options = new Pop3ClientOptions
        {
            TrustedCertificates = [TestPki.Shared.Root],
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        };
        if (mode == Pop3TlsMode.Implicit)
        {
            await Assert.ThrowsAsync<ArgumentException>(() => Open(async, mode, server, options));
            return;
        }

        using Pop3Client client = await Both.Run(async, () => Pop3Client.Connect("localhost", server.Port, options), () => Pop3Client.ConnectAsync("localhost", server.Port, options));
        await Assert.ThrowsAsync<ArgumentException>(() => Both.Run(async, () => client.Stls(), () => client.StlsAsync()));
        // STLS was never sent, so the plain session goes on.
        await Both.Run(async, () => client.Capa(), () => client.CapaAsync());
        Assert.False(client.IsEncrypted);
    }

    [Fact]
    public async Task Changing_the_options_after_connecting_changes_no_connection()
    {
        await using Pop3TestServer server = Start(Pop3TlsMode.StartTls, TestPki.Shared.Issue("localhost"));
        var options = new Pop3ClientOptions { TrustedCertificates = [TestPki.Shared.Root] };
        using Pop3Client client = Pop3Client.Connect("localhost", server.Port, options);
        options.PinnedCertificates.Add(CertificatePin.ForPublicKey(TestPki.Shared.Issue("localhost")));
        options.TrustedCertificates.Clear();
        client.Stls();
        Assert.True(client.IsEncrypted);
    }

    private static CertificatePin Pin(CertificatePinKind kind, X509Certificate2 certificate) =>
        kind == CertificatePinKind.PublicKey ? CertificatePin.ForPublicKey(certificate) : CertificatePin.ForCertificate(certificate);

    private static Pop3TestServer Start(Pop3TlsMode mode, X509Certificate2? certificate) =>
        Pop3TestServer.Start(new Pop3TestServerOptions { Tls = mode, Certificate = certificate });

    /// <summary>Connects to localhost with TLS as the server offers it: from the first byte, or by STLS.</summary>
    private static Task<Pop3Client> Open(bool async, Pop3TlsMode mode, Pop3TestServer server, Pop3ClientOptions options)
    {
        options.Timeout = TimeSpan.FromSeconds(10);
        return Both.ConnectTls(async, "localhost", server.Port, mode == Pop3TlsMode.Implicit, options);
    }
}
