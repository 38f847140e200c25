using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Poplib;

/// <summary>Reads certificates to trust (<see cref="Pop3ClientOptions.TrustedCertificates"/>) from a file.</summary>
public static class CertificateFile
{
    /// <summary>A file of trusted certificates larger than this is not a certificate file (a system bundle is ~ 200 KB).</summary>
    public const int MaxLength = 16 * 1024 * 1024;

    /// <summary>
    /// The certificates in <paramref name="path"/>: PEM (one or more <c>-----BEGIN CERTIFICATE-----</c>
    /// blocks; other blocks, such as a private key, are ignored) or one DER certificate. A file that
    /// holds no certificate is refused here rather than trusting nothing and failing later, far from the mistake.
    /// </summary>
    /// <exception cref="FormatException">The file holds no certificate, or a malformed one; the message names the file.</exception>
    /// <exception cref="IOException">The file cannot be read (<see cref="FileNotFoundException"/> when it does not exist).</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static X509Certificate2Collection Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        byte[] bytes = Read(path);
        X509Certificate2Collection certificates = [];
        bool pem = bytes.AsSpan().IndexOf("-----BEGIN"u8) >= 0;
        try
        {
            if (pem)
                certificates.ImportFromPem(Encoding.ASCII.GetString(bytes));
            else if (bytes.Length > 0)
                certificates.Add(X509CertificateLoader.LoadCertificate(bytes));
        }
        catch (CryptographicException e)
        {
            // A PEM block that does not decode is a damaged certificate; bytes that are not DER are not a certificate at all.
            throw pem ? new FormatException($"{path} holds a malformed certificate ({e.Message}); {Expected}", e) : NoCertificate(path, e);
        }

        return certificates.Count > 0 ? certificates : throw NoCertificate(path, null);
    }

    private const string Expected = "expected PEM (\"-----BEGIN CERTIFICATE-----\" blocks) or one DER certificate.";

    private static FormatException NoCertificate(string path, Exception? inner) => new($"{path} holds no certificate: {Expected}", inner);

    private static byte[] Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (file.Length > MaxLength)
            throw new FormatException($"{path} is {file.Length} bytes long: too long for a certificate file (at most {MaxLength}).");
        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        return bytes;
    }
}
