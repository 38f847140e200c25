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

        var copy = new SslClientAuthenticationOptions
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
#pragma warning disable SYSLIB0040 // Obsolete, but a caller who set it must not lose it silently.
            EncryptionPolicy = given.EncryptionPolicy,
#pragma warning restore SYSLIB0040
            LocalCertificateSelectionCallback = given.LocalCertificateSelectionCallback,
            RemoteCertificateValidationCallback = given.RemoteCertificateValidationCallback,
        };
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            copy.AllowRsaPkcs1Padding = given.AllowRsaPkcs1Padding;
            copy.AllowRsaPssPadding = given.AllowRsaPssPadding;
        }

        return copy;
    }
}
