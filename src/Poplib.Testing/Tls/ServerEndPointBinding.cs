using System.Runtime.InteropServices;
using System.Security.Authentication.ExtendedProtection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Poplib.Testing.Tls;

/// <summary>
/// The server's own <c>tls-server-end-point</c> channel binding (RFC 5929 section 4): "tls-server-end-point:"
/// and a hash of the server's certificate. Made here because .NET on Linux cannot give it to a server:
/// <c>SslStream.TransportContext.GetChannelBinding(ChannelBindingKind.Endpoint)</c> hashes the peer's
/// certificate, which on the server's side is the client's, and fails without one. The memory holds the
/// SEC_CHANNEL_BINDINGS layout that <see cref="System.Net.Security.NegotiateAuthentication"/> takes on
/// every platform: eight 32-bit fields, the last two the application data's length and offset.
/// </summary>
internal sealed class ServerEndPointBinding : ChannelBinding
{
    private const int HeaderSize = 8 * sizeof(int);

    private ServerEndPointBinding(byte[] applicationData) : base(ownsHandle: true)
    {
        ApplicationData = applicationData;
        Size = HeaderSize + applicationData.Length;
        SetHandle(Marshal.AllocHGlobal(Size));
        for (int field = 0; field < 6; field++)
            Marshal.WriteInt32(handle, field * sizeof(int), 0); // no initiator or acceptor addresses
        Marshal.WriteInt32(handle, 6 * sizeof(int), applicationData.Length);
        Marshal.WriteInt32(handle, 7 * sizeof(int), HeaderSize);
        Marshal.Copy(applicationData, 0, handle + HeaderSize, applicationData.Length);
    }

    public override int Size { get; }

    /// <summary>"tls-server-end-point:" and the certificate's hash: what the client must have bound the exchange to.</summary>
    public byte[] ApplicationData { get; }

    public static ServerEndPointBinding For(X509Certificate2 certificate)
    {
        byte[] hash = CryptographicOperations.HashData(HashOf(certificate), certificate.RawData);
        return new ServerEndPointBinding([.. Encoding.ASCII.GetBytes("tls-server-end-point:"), .. hash]);
    }

    protected override bool ReleaseHandle()
    {
        Marshal.FreeHGlobal(handle);
        return true;
    }

    // RFC 5929 section 4.1: the hash of the certificate's signature algorithm; MD5 and SHA-1 become SHA-256.
    private static HashAlgorithmName HashOf(X509Certificate2 certificate) => certificate.SignatureAlgorithm.Value switch
    {
        "1.2.840.113549.1.1.12" or "1.2.840.10045.4.3.3" => HashAlgorithmName.SHA384,
        "1.2.840.113549.1.1.13" or "1.2.840.10045.4.3.4" => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };
}
