using System.Net.Security;

namespace Poplib.Transport;

/// <summary>Prepares the caller's TLS settings for one connection without changing the caller's object.</summary>
internal static class TlsOptions
{
    /// <summary>
    /// Returns a copy of the settings (the handshake's validation is set on it, never on the caller's
    /// object) whose TargetHost (SNI and the certificate name check) is the connected host unless the
    /// caller named another.
    /// </summary>
    public static SslClientAuthenticationOptions For(string host, SslClientAuthenticationOptions? given)
    {
        if (given is null)
            return new SslClientAuthenticationOptions { TargetHost = host };

        var copy = new SslClientAuthenticationOptions
        {
            TargetHost = string.IsNullOrEmpty(given.TargetHost) ? host : given.TargetHost,
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
