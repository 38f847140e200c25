using System.Security.Cryptography;
using System.Text;

namespace Poplib.Sasl;

/// <summary>
/// CRAM-MD5 (RFC 2195): an HMAC-MD5 of the server's challenge keyed by the password. The password is
/// never sent, but challenge and response together let an eavesdropper try passwords offline at MD5
/// speed, so without TLS it needs <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/>; the
/// server must store the password in the clear, and it is not authenticated — prefer SCRAM.
/// </summary>
public sealed class SaslCramMd5 : ISaslMechanism
{
    private readonly string _userName;
    private readonly string _password;
    private bool _sent;

    /// <param name="userName">The user name.</param>
    /// <param name="password">The shared secret.</param>
    public SaslCramMd5(string userName, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(password);
        _userName = userName;
        _password = password;
    }

    /// <inheritdoc/>
    public string Name => "CRAM-MD5";

    /// <inheritdoc/>
    public bool ExposesSecret => false;

    /// <inheritdoc/>
    public bool HasInitialResponse => false;

    /// <inheritdoc/>
    public byte[] Respond(ReadOnlySpan<byte> challenge)
    {
        if (_sent)
            throw new SaslException("The server sent a second CRAM-MD5 challenge.");
        if (challenge.IsEmpty)
            throw new SaslException("The server sent an empty CRAM-MD5 challenge.");
        _sent = true;
        // HMAC-MD5 is what RFC 2195 specifies; it is not used here for anything else.
#pragma warning disable CA5351
        byte[] digest = HMACMD5.HashData(Encoding.UTF8.GetBytes(_password), challenge);
#pragma warning restore CA5351
        return Encoding.UTF8.GetBytes(_userName + " " + Convert.ToHexStringLower(digest));
    }

    /// <inheritdoc/>
    public void Complete()
    {
        if (!_sent)
            throw new SaslException("The server accepted CRAM-MD5 without a challenge.");
    }
}
