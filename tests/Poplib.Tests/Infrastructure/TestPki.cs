using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Poplib.Tests.Infrastructure;

/// <summary>
/// A small private CA made at run time, issuing server certificates the way a company or a NAS does:
/// a root that is not the server's certificate, leaves with SANs, and re-issued leaves that keep their key.
/// </summary>
internal sealed class TestPki
{
    private static readonly Lazy<TestPki> SharedInstance = new(() => new TestPki("Poplib Test Root CA"));
    private static long s_serial = DateTime.UtcNow.Ticks;
    private readonly ECDsa _rootKey;

    private TestPki(string name)
    {
        _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", _rootKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        using X509Certificate2 withKey = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddYears(2));
        Root = X509CertificateLoader.LoadCertificate(withKey.RawData);
    }

    /// <summary>One CA for the whole test run (key generation is the slow part).</summary>
    public static TestPki Shared => SharedInstance.Value;

    /// <summary>A CA nobody trusts: its leaves must be refused.</summary>
    public static TestPki CreateOther() => new("Some Other CA");

    /// <summary>The root certificate (no private key): what a client trusts.</summary>
    public X509Certificate2 Root { get; }

    /// <summary>A fresh key for a server.</summary>
    public static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>A server certificate for <paramref name="host"/> (and 127.0.0.1 when it is localhost), signed by this CA, with its private key.</summary>
    public X509Certificate2 Issue(string host, ECDsa? key = null, DateTimeOffset? notAfter = null)
    {
        key ??= NewKey();
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(host);
        if (host == "localhost")
            names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        byte[] serial = BitConverter.GetBytes(Interlocked.Increment(ref s_serial));
        using X509Certificate2 issuerWithKey = Root.CopyWithPrivateKey(_rootKey);
        using X509Certificate2 certificate = request.Create(issuerWithKey, DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(90), serial);
        using X509Certificate2 withKey = certificate.CopyWithPrivateKey(key);
        // Through PKCS#12 so that SslStream can use the private key on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
