using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Poplib.Diagnostics;
using Poplib.Transport;

namespace Poplib.Certificates;

/// <summary>
/// Judges the server's certificate for one TLS handshake: the platform's check of chain and host name,
/// then — if only the chain failed — a chain built again with <see cref="Pop3ClientOptions.TrustedCertificates"/>
/// as extra roots (<see cref="X509ChainTrustMode.CustomRootTrust"/>), then the pins, which are checked in
/// addition to all that, never instead. A wrong host name is never excused. Remembers what the server
/// presented, so that a refusal can say it (<see cref="Refusal"/>) and a success can show it
/// (<see cref="Chain"/>).
/// </summary>
internal sealed class CertificateValidation
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    private readonly string _host;
    private readonly X509Certificate2Collection _trusted;
    private readonly CertificatePin[] _pins;
    private readonly RemoteCertificateValidationCallback? _callback;
    private readonly X509RevocationMode _revocation;
    private (Pop3CertificateFailure Reason, SslPolicyErrors Errors, string Message)? _refused;

    private CertificateValidation(SslClientAuthenticationOptions options, X509Certificate2Collection trusted, CertificatePin[] pins)
    {
        _host = options.TargetHost!;
        _trusted = trusted;
        _pins = pins;
        _callback = options.RemoteCertificateValidationCallback;
        _revocation = options.CertificateRevocationCheckMode;
        options.RemoteCertificateValidationCallback = Validate;
        Options = options;
    }

    /// <summary>The settings to hand the handshake: the caller's, with this validation as the callback.</summary>
    public SslClientAuthenticationOptions Options { get; }

    /// <summary>What the server presented, its certificate first; empty until the handshake has reached it.</summary>
    public IReadOnlyList<X509Certificate2> Chain { get; private set; } = [];

    /// <summary>
    /// Prepares the check for a handshake with <paramref name="host"/>. A caller who gave their own
    /// chain policy or validation callback has decided trust by themselves; trusted certificates on
    /// top would be a second answer to the same question, so that is refused. Pins are checked after a
    /// caller's callback accepts, as after the platform's check.
    /// </summary>
    /// <exception cref="ArgumentException">Trusted certificates together with a chain policy or a validation callback of the caller's.</exception>
    public static CertificateValidation Prepare(string host, SslClientAuthenticationOptions? given, X509Certificate2Collection trusted, CertificatePin[] pins)
    {
        if (trusted.Count > 0 && (given?.RemoteCertificateValidationCallback is not null || given?.CertificateChainPolicy is not null))
        {
            throw new ArgumentException(
                "Pop3ClientOptions.TrustedCertificates cannot be combined with SslOptions.RemoteCertificateValidationCallback or SslOptions.CertificateChainPolicy: " +
                "each decides which certificates to trust. Use one of them.", nameof(given));
        }

        return new CertificateValidation(TlsOptions.For(host, given), trusted, pins);
    }

    /// <summary>The exception to throw for a failed handshake: typed when this validation refused the certificate, else <see langword="null"/>.</summary>
    public Pop3CertificateException? Refusal(Exception handshakeFailure) =>
        _refused is { } refused
            ? new Pop3CertificateException(refused.Message, handshakeFailure, refused.Reason, _host, refused.Errors, Chain, _pins)
            : null;

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        try
        {
            return Judge(sender, certificate, chain, errors);
        }
        catch (CryptographicException e)
        {
            return Refuse(Pop3CertificateFailure.Untrusted, errors, $"The server's certificate could not be checked: {e.Message}");
        }
    }

    private bool Judge(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
            return Refuse(Pop3CertificateFailure.NotPresented, errors, "The server presented no certificate.");
        X509Certificate2 leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        Chain = Presented(leaf, chain);

        if (_callback is not null)
        {
            if (!_callback(sender, certificate, chain, errors))
            {
                return Refuse(Pop3CertificateFailure.RejectedByCallback, errors,
                    $"The server's certificate ({Describe(leaf)}) was rejected by SslOptions.RemoteCertificateValidationCallback (the platform found: {errors}).");
            }
        }
        else if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return Refuse(Pop3CertificateFailure.NameMismatch, errors,
                $"The server's certificate is not valid for the host name {_host}: it is for {Names(leaf)} ({Describe(leaf)}). " +
                "Connect with a name the certificate gives, or have the server's certificate fixed; a trusted root or a pin never excuses a wrong name.");
        }
        else if (errors != SslPolicyErrors.None && !ChainsToTrusted(leaf, chain, errors, out string problem))
        {
            return Refuse(Pop3CertificateFailure.Untrusted, errors,
                $"The server's certificate is not trusted ({problem}): {Describe(leaf)}. Its fingerprints: public key {CertificatePin.ForPublicKey(leaf)}, " +
                $"certificate {CertificatePin.ForCertificate(leaf)}. If it is your own server (self-signed, or your own CA), check a fingerprint out of band, " +
                "then trust the certificate or its CA with Pop3ClientOptions.TrustedCertificates.");
        }

        if (_pins.Length > 0 && !_pins.Any(pin => pin.Matches(leaf)))
        {
            return Refuse(Pop3CertificateFailure.PinMismatch, errors,
                $"The server's certificate matches none of the pinned fingerprints ({string.Join(", ", _pins.Select(p => p.ToString()))}): " +
                $"it presented public key {CertificatePin.ForPublicKey(leaf)} and certificate {CertificatePin.ForCertificate(leaf)} ({Describe(leaf)}). " +
                "If the server's certificate was replaced on purpose, check the new fingerprint out of band and update the pin; otherwise someone may be impersonating the server.");
        }

        return true;
    }

    /// <summary>
    /// Whether the chain leads to one of the trusted certificates, built by the platform with them as
    /// its only roots (the platform's default already said no to the system's roots).
    /// </summary>
    private bool ChainsToTrusted(X509Certificate2 leaf, X509Chain? presented, SslPolicyErrors errors, out string problem)
    {
        problem = Status(presented) ?? errors.ToString();
        if (_trusted.Count == 0 || errors != SslPolicyErrors.RemoteCertificateChainErrors)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_trusted);
        chain.ChainPolicy.RevocationMode = _revocation;
        chain.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        // The intermediates the server sent, which the platform's check was given too.
        if (presented is not null)
            chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
        if (chain.Build(leaf))
        {
            Chain = Presented(leaf, chain); // now up to the trusted root that vouched for it
            return true;
        }

        problem = Status(chain) ?? problem;
        return false;
    }

    private bool Refuse(Pop3CertificateFailure reason, SslPolicyErrors errors, string message)
    {
        _refused = (reason, errors, message);
        return false;
    }

    // The server's certificate and the rest of the chain as the platform built it, copied: the chain is disposed after the handshake.
    private static X509Certificate2[] Presented(X509Certificate2 leaf, X509Chain? chain)
    {
        var certificates = new List<X509Certificate2> { leaf };
        if (chain is not null)
        {
            foreach (X509ChainElement element in chain.ChainElements)
            {
                if (!element.Certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
                    certificates.Add(X509CertificateLoader.LoadCertificate(element.Certificate.RawDataMemory.Span));
            }
        }

        return [.. certificates];
    }

    private static string? Status(X509Chain? chain)
    {
        string[] problems = chain is null ? [] : [.. chain.ChainStatus.Select(s => s.StatusInformation.Trim().TrimEnd('.')).Where(s => s.Length > 0).Distinct()];
        return problems.Length > 0 ? string.Join("; ", problems) : null;
    }

    // Subject and issuer are the server's text: escaped before they reach a message.
    private static string Describe(X509Certificate2 certificate) =>
        $"subject {ServerText.Escape(certificate.Subject)}, issued by {ServerText.Escape(certificate.Issuer)}";

    private static string Names(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (X509SubjectAlternativeNameExtension san in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            names.AddRange(san.EnumerateDnsNames());
            names.AddRange(san.EnumerateIPAddresses().Select(a => a.ToString()));
        }

        return names.Count > 0
            ? ServerText.Escape(string.Join(", ", names.Take(20)))
            : "no name (it has no subject alternative names)";
    }
}
