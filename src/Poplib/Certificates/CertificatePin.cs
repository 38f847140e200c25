using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Poplib;

/// <summary>What a <see cref="CertificatePin"/> is the SHA-256 digest of.</summary>
public enum CertificatePinKind
{
    /// <summary>
    /// The certificate's SubjectPublicKeyInfo, DER (curl's <c>--pinnedpubkey sha256//…</c>, HPKP): it
    /// survives a renewed certificate as long as the server keeps its key.
    /// </summary>
    PublicKey,

    /// <summary>
    /// The whole certificate, DER (<c>openssl x509 -fingerprint -sha256</c>, fetchmail's
    /// <c>sslfingerprint</c>): any new certificate, even for the same key, needs a new pin.
    /// </summary>
    Certificate,
}

/// <summary>
/// A SHA-256 fingerprint the server's certificate must match (<see cref="Pop3ClientOptions.PinnedCertificates"/>),
/// written as text in one of these forms (whitespace around it ignored, the prefix in any case):
/// <list type="bullet">
/// <item><c>sha256:</c> and the base64 of the digest (44 characters, the final <c>=</c> optional): a
/// <see cref="CertificatePinKind.PublicKey"/> pin. curl's own form, <c>sha256//BASE64</c>, means the same.</item>
/// <item><c>sha256:</c> and the digest in hexadecimal, 64 digits in either case, plain or with a colon
/// between every two (as <c>openssl x509 -noout -fingerprint -sha256</c> prints it): a
/// <see cref="CertificatePinKind.Certificate"/> pin.</item>
/// </list>
/// The encoding says the kind, so no form is ambiguous; <see cref="ToString"/> gives the same forms
/// back (hexadecimal in upper case with colons). <c>poplib capa --show-certificate</c> prints both pins of a server.
/// </summary>
public sealed class CertificatePin : IEquatable<CertificatePin>
{
    private const int DigestLength = 32;
    private readonly byte[] _digest;

    private CertificatePin(CertificatePinKind kind, byte[] digest)
    {
        Kind = kind;
        _digest = digest;
    }

    /// <summary>Whether this pin is of the public key or of the whole certificate.</summary>
    public CertificatePinKind Kind { get; }

    /// <summary>The SHA-256 digest (32 octets).</summary>
    public ReadOnlyMemory<byte> Sha256 => _digest;

    /// <summary>The pin of <paramref name="certificate"/>'s public key (SHA-256 of its DER SubjectPublicKeyInfo).</summary>
    public static CertificatePin ForPublicKey(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new(CertificatePinKind.PublicKey, SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>The pin of the whole <paramref name="certificate"/> (SHA-256 of its DER encoding).</summary>
    public static CertificatePin ForCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new(CertificatePinKind.Certificate, SHA256.HashData(certificate.RawData));
    }

    /// <summary>Reads a pin in one of the forms described on <see cref="CertificatePin"/>.</summary>
    /// <exception cref="FormatException"><paramref name="text"/> is in none of them; the message quotes it and lists the forms.</exception>
    public static CertificatePin Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out CertificatePin? pin)
            ? pin
            : throw new FormatException(
                $"'{Diagnostics.ServerText.Escape(text.Length > 120 ? text[..120] + "…" : text)}' is not a certificate fingerprint: expected sha256: followed by the public key's SHA-256 in base64 (44 characters; curl's sha256//BASE64 too) " +
                "or the certificate's SHA-256 in hexadecimal (64 digits, colons between pairs allowed), as 'poplib capa --show-certificate' prints them.");
    }

    /// <summary>Reads a pin; false when <paramref name="text"/> is in none of the forms described on <see cref="CertificatePin"/>.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out CertificatePin? pin)
    {
        pin = null;
        if (text is null)
            return false;
        string value = text.Trim();
        if (value.StartsWith("sha256//", StringComparison.OrdinalIgnoreCase))
            return TryBase64(value["sha256//".Length..], out pin);
        if (!value.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase))
            return false;
        string digest = value["sha256:".Length..];
        return TryHex(digest, out pin) || TryBase64(digest, out pin);
    }

    /// <summary>Whether <paramref name="certificate"/> (its public key or all of it, as <see cref="Kind"/> says) has this digest.</summary>
    public bool Matches(X509Certificate2 certificate) =>
        Equals(Kind == CertificatePinKind.PublicKey ? ForPublicKey(certificate) : ForCertificate(certificate));

    /// <summary><c>sha256:BASE64</c> for a public key, <c>sha256:AB:CD:…</c> for a certificate: text <see cref="Parse"/> reads back.</summary>
    public override string ToString() => Kind == CertificatePinKind.PublicKey
        ? "sha256:" + Convert.ToBase64String(_digest)
        : "sha256:" + string.Join(':', _digest.Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));

    /// <inheritdoc/>
    public bool Equals(CertificatePin? other) =>
        other is not null && other.Kind == Kind && CryptographicOperations.FixedTimeEquals(other._digest, _digest);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as CertificatePin);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, BitConverter.ToInt32(_digest, 0));

    private static bool TryHex(string text, [NotNullWhen(true)] out CertificatePin? pin)
    {
        pin = null;
        // Either 64 digits, or 32 pairs with exactly one colon between each two.
        string digits = text.Length == DigestLength * 3 - 1 ? text.Replace(":", "", StringComparison.Ordinal) : text;
        if (digits.Length != DigestLength * 2 || (digits.Length != text.Length && !ColonsBetweenPairs(text)) || !digits.All(char.IsAsciiHexDigit))
            return false;
        pin = new CertificatePin(CertificatePinKind.Certificate, Convert.FromHexString(digits));
        return true;
    }

    private static bool ColonsBetweenPairs(string text)
    {
        for (int i = 2; i < text.Length; i += 3)
        {
            if (text[i] != ':')
                return false;
        }

        return true;
    }

    private static bool TryBase64(string text, [NotNullWhen(true)] out CertificatePin? pin)
    {
        pin = null;
        string padded = text.Length == 43 ? text + "=" : text;
        byte[] digest = new byte[DigestLength + 2];
        if (padded.Length != 44 || !Convert.TryFromBase64String(padded, digest, out int written) || written != DigestLength)
            return false;
        pin = new CertificatePin(CertificatePinKind.PublicKey, digest[..DigestLength]);
        return true;
    }
}
