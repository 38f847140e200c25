using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Poplib;

/// <summary>
/// The client refused the server's TLS certificate: it is not trusted, not valid for the host name,
/// matches none of <see cref="Pop3ClientOptions.PinnedCertificates"/>, or your validation callback
/// said no. The connection is closed and nothing was sent over it. An <see cref="AuthenticationException"/>,
/// as every TLS failure is; this one also carries what the server presented (<see cref="Chain"/> and
/// both of its fingerprints), so that a program can show it, and a person decide whether to trust it.
/// </summary>
public sealed class Pop3CertificateException : AuthenticationException
{
    internal Pop3CertificateException(string message, Exception? innerException, Pop3CertificateFailure reason, string host, SslPolicyErrors policyErrors,
        IReadOnlyList<X509Certificate2> chain, IReadOnlyList<CertificatePin> pins)
        : base(message, innerException)
    {
        Reason = reason;
        Host = host;
        PolicyErrors = policyErrors;
        Chain = chain;
        ExpectedPins = pins;
        if (chain.Count > 0)
        {
            PublicKeyPin = CertificatePin.ForPublicKey(chain[0]);
            CertificateFingerprint = CertificatePin.ForCertificate(chain[0]);
        }
    }

    /// <summary>Why the certificate was refused.</summary>
    public Pop3CertificateFailure Reason { get; }

    /// <summary>The host name the certificate was checked against.</summary>
    public string Host { get; }

    /// <summary>What the platform's own check found (before trusted certificates and pins were considered).</summary>
    public SslPolicyErrors PolicyErrors { get; }

    /// <summary>The server's certificate first, then the rest of its chain as far as it could be built; empty when it presented none.</summary>
    public IReadOnlyList<X509Certificate2> Chain { get; }

    /// <summary>The server's certificate, or <see langword="null"/> when it presented none.</summary>
    public X509Certificate2? Certificate => Chain.Count > 0 ? Chain[0] : null;

    /// <summary>The pin of the server's public key (what to give <see cref="Pop3ClientOptions.PinnedCertificates"/> after checking it out of band).</summary>
    public CertificatePin? PublicKeyPin { get; }

    /// <summary>The pin of the server's whole certificate.</summary>
    public CertificatePin? CertificateFingerprint { get; }

    /// <summary>The pins the certificate had to match (<see cref="Pop3ClientOptions.PinnedCertificates"/>); empty when none were set.</summary>
    public IReadOnlyList<CertificatePin> ExpectedPins { get; }
}

/// <summary>Why a <see cref="Pop3CertificateException"/> was thrown.</summary>
public enum Pop3CertificateFailure
{
    /// <summary>The server presented no certificate.</summary>
    NotPresented,

    /// <summary>
    /// The chain leads to no trusted root, or a certificate in it is expired, not yet valid or unfit for a
    /// server: trust the server's CA or its certificate with <see cref="Pop3ClientOptions.TrustedCertificates"/>.
    /// </summary>
    Untrusted,

    /// <summary>The certificate is not valid for the host name connected to. Never excused by a trusted root or a pin.</summary>
    NameMismatch,

    /// <summary>The chain is valid, but the certificate matches none of <see cref="Pop3ClientOptions.PinnedCertificates"/>.</summary>
    PinMismatch,

    /// <summary>The <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/> given in <see cref="Pop3ClientOptions.SslOptions"/> returned false.</summary>
    RejectedByCallback,
}
