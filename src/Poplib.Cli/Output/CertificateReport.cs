using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Poplib.Cli.Output;

/// <summary>
/// <c>poplib capa --show-certificate</c>: the server's chain, each certificate's subject, issuer,
/// validity, names and both fingerprints in the form <c>--tls-fingerprint</c> takes, and its PEM (for
/// <c>--ca-file</c>). Subjects, issuers and names are the server's text, printed through
/// <see cref="TerminalText"/> like everything else it sends.
/// </summary>
internal static class CertificateReport
{
    /// <param name="output">Where to write.</param>
    /// <param name="server">host:port.</param>
    /// <param name="chain">The server's certificate first.</param>
    /// <param name="refusal">Why the certificate was refused, or null when it was accepted.</param>
    public static void WriteText(TextWriter output, string server, IReadOnlyList<X509Certificate2> chain, string? refusal)
    {
        output.WriteLine(refusal is null
            ? $"The certificate chain of {server} (verified):"
            : $"The certificate chain of {server} (NOT trusted; the connection was closed without logging in):");
        for (int i = 0; i < chain.Count; i++)
        {
            X509Certificate2 certificate = chain[i];
            output.WriteLine();
            output.WriteLine($"[{i}] {(i == 0 ? "server" : certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData) ? "root" : "issuer")}");
            output.WriteLine($"    Subject:     {TerminalText.Safe(certificate.Subject)}");
            output.WriteLine($"    Issuer:      {TerminalText.Safe(certificate.Issuer)}");
            output.WriteLine($"    Valid:       {Time(certificate.NotBefore)} to {Time(certificate.NotAfter)}");
            if (Names(certificate) is { Count: > 0 } names)
                output.WriteLine($"    Names:       {TerminalText.Safe(string.Join(", ", names))}");
            output.WriteLine($"    Public key:  --tls-fingerprint {CertificatePin.ForPublicKey(certificate)}");
            output.WriteLine($"    Certificate: --tls-fingerprint {CertificatePin.ForCertificate(certificate)}");
            output.Write(certificate.ExportCertificatePem().Replace("\r", "", StringComparison.Ordinal));
            output.WriteLine();
        }

        output.WriteLine();
        output.WriteLine("Check a fingerprint with the server's owner (not over this connection) before you trust it. The public key's");
        output.WriteLine("fingerprint survives a renewed certificate with the same key. A self-signed server also needs its certificate");
        output.WriteLine("(the PEM above, saved to a file) as --ca-file: a pin narrows trust, it never replaces the chain check.");
    }

    public static void WriteJson(TextWriter output, string server, IReadOnlyList<X509Certificate2> chain, string? refusal) =>
        JsonOutput.Write(output, json =>
        {
            json.WriteStartObject();
            json.WriteString("server", server);
            json.WriteBoolean("trusted", refusal is null);
            if (refusal is not null)
                json.WriteString("error", refusal);
            json.WriteStartArray("certificates");
            foreach (X509Certificate2 certificate in chain)
            {
                json.WriteStartObject();
                json.WriteString("subject", certificate.Subject);
                json.WriteString("issuer", certificate.Issuer);
                json.WriteString("notBefore", Time(certificate.NotBefore));
                json.WriteString("notAfter", Time(certificate.NotAfter));
                json.WriteStartArray("names");
                foreach (string name in Names(certificate))
                    json.WriteStringValue(name);
                json.WriteEndArray();
                json.WriteString("publicKeySha256", CertificatePin.ForPublicKey(certificate).ToString());
                json.WriteString("certificateSha256", CertificatePin.ForCertificate(certificate).ToString());
                json.WriteString("pem", certificate.ExportCertificatePem());
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });

    private static string Time(DateTime local) => local.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static List<string> Names(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (X509SubjectAlternativeNameExtension san in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            names.AddRange(san.EnumerateDnsNames());
            names.AddRange(san.EnumerateIPAddresses().Select(a => a.ToString()));
        }

        return names;
    }
}
