using System.Net.Security;

namespace Poplib.Transport;

/// <summary>Prepares the caller's TLS settings for one connection without changing the caller's object.</summary>
internal static class TlsOptions
{
    /// <summary>
    /// Returns settings whose TargetHost (SNI and the certificate name check) is the connected host
    /// unless the caller named another. Validation stays the platform's default — chain and host
    /// name — unless the caller supplied a callback.
    /// </summary>
    public static SslClientAuthenticationOptions For(string host, SslClientAuthenticationOptions? given)
    {
        if (given is null)
            return new SslClientAuthenticationOptions { TargetHost = host };
        if (!string.IsNullOrEmpty(given.TargetHost))
            return given;

        return new SslClientAuthenticationOptions
        {
            TargetHost = host,
            AllowRenegotiation = given.AllowRenegotiation,
            AllowTlsResume = given.AllowTlsResume,
            ApplicationProtocols = given.ApplicationProtocols,
            CertificateChainPolicy = given.CertificateChainPolicy,
            CertificateRevocationCheckMode = given.CertificateRevocationCheckMode,
            CipherSuitesPolicy = given.CipherSuitesPolicy,
            ClientCertificateContext = given.ClientCertificateContext,
            ClientCertificates = given.ClientCertificates,
            EnabledSslProtocols = given.EnabledSslProtocols,
            LocalCertificateSelectionCallback = given.LocalCertificateSelectionCallback,
            RemoteCertificateValidationCallback = given.RemoteCertificateValidationCallback,
        };
    }
}
