using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Poplib.Tests.Infrastructure;

/// <summary>Self-signed certificates made at run time, and client TLS settings that trust exactly them.</summary>
internal static class TestCertificates
{
    private static readonly Lazy<X509Certificate2> LocalhostCertificate = new(() => Create("localhost", withIpSan: true));
    private static readonly Lazy<X509Certificate2> OtherHostCertificate = new(() => Create("mail.example.org", withIpSan: false));

    /// <summary>CN=localhost with SANs localhost and 127.0.0.1.</summary>
    public static X509Certificate2 Localhost => LocalhostCertificate.Value;

    /// <summary>A certificate for another host name: a name check against 127.0.0.1 or localhost must fail.</summary>
    public static X509Certificate2 OtherHost => OtherHostCertificate.Value;

    /// <summary>Real validation (chain and host name) with <paramref name="root"/> as the only trusted root.</summary>
    public static SslClientAuthenticationOptions Trusting(X509Certificate2 root, string? targetHost = null)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificate(root.RawData));
        return new SslClientAuthenticationOptions { CertificateChainPolicy = policy, TargetHost = targetHost };
    }

    public static Pop3ClientOptions TrustingOptions(X509Certificate2 root) => new() { SslOptions = Trusting(root) };

    private static X509Certificate2 Create(string name, bool withIpSan)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        if (withIpSan)
            san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }
}
