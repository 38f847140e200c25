using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Poplib.Fetch.Connection;

/// <summary>
/// Certificates trusted besides the system's roots (a <c>caFile</c> in a config, <c>--ca-file</c> at
/// the shell): a self-signed server's, a company's own CA. One implementation for the command line
/// and the library, so that a certificate is judged alike in both.
/// </summary>
internal static class TrustedCertificates
{
    /// <summary>
    /// The PEM certificates in <paramref name="path"/>. Throws <see cref="IOException"/>,
    /// <see cref="UnauthorizedAccessException"/> or <see cref="CryptographicException"/> when it cannot be
    /// read, and <see cref="InvalidDataException"/> when it holds no certificate (which would trust
    /// nothing and fail later as a rejected certificate, far from the mistake).
    /// </summary>
    public static X509Certificate2Collection Load(string path)
    {
        X509Certificate2Collection trusted = [];
        trusted.ImportFromPemFile(path);
        if (trusted.Count == 0)
            throw new InvalidDataException($"{path} holds no PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block)");
        return trusted;
    }

    /// <summary>
    /// TLS settings under which a server passes if the system's roots or one of
    /// <paramref name="trusted"/> vouch for its certificate — for the host name asked for, always.
    /// </summary>
    public static SslClientAuthenticationOptions Trusting(X509Certificate2Collection trusted) => new()
    {
        RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (errors == SslPolicyErrors.None)
                return true;
            if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
                return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
            using X509Certificate2 leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return chain.Build(leaf);
        },
    };
}
