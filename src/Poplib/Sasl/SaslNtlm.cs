using System.Net;

namespace Poplib.Sasl;

/// <summary>
/// NTLM as Exchange offers it for POP3 ([MS-POP3] over [MS-NLMP]): <c>AUTH NTLM</c>, the server's
/// empty <c>+</c>, the client's NEGOTIATE message, the server's CHALLENGE, the client's AUTHENTICATE,
/// <c>+OK</c>. The messages come from the platform (<see cref="System.Net.Security.NegotiateAuthentication"/>:
/// SSPI on Windows, the gss-ntlmssp GSSAPI plugin on Linux), never from this library.
/// <para>
/// The password is never sent, but the server's challenge and the client's answer are enough to crack
/// it offline (NTLMv2 is one HMAC-MD5 over the password's MD4 hash), the server is not authenticated,
/// and without TLS an active attacker can relay the exchange to another service of the domain. So it
/// is refused on an unencrypted connection unless <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/>
/// is set, and over TLS it is bound to the server's certificate (<see cref="SaslNegotiateMechanism.UseChannelBinding"/>).
/// </para>
/// </summary>
public sealed class SaslNtlm : SaslNegotiateMechanism
{
    private int _step;

    /// <param name="userName">
    /// <c>DOMAIN\user</c>, <c>user@domain</c> (a user principal name) or a bare user name (the
    /// server's own domain).
    /// </param>
    /// <param name="password">The password.</param>
    public SaslNtlm(string userName, string password) : base("NTLM", Credential(userName, password), requireMutualAuthentication: false) { }

    /// <param name="credential">The user name, password and domain as a <see cref="NetworkCredential"/>.</param>
    public SaslNtlm(NetworkCredential credential)
        : base("NTLM", credential ?? throw new ArgumentNullException(nameof(credential)), requireMutualAuthentication: false)
    {
        ArgumentException.ThrowIfNullOrEmpty(credential.UserName, nameof(credential));
    }

    /// <inheritdoc/>
    public override string Name => "NTLM";

    /// <summary>
    /// No: [MS-POP3] has the client send <c>AUTH NTLM</c> alone and wait for the server's <c>+</c>
    /// before its NEGOTIATE message (computed before <c>AUTH</c> is sent all the same).
    /// </summary>
    public override bool HasInitialResponse => false;

    /// <inheritdoc/>
    public override byte[] Respond(ReadOnlySpan<byte> challenge)
    {
        switch (_step++)
        {
            case 0:
                if (!challenge.IsEmpty)
                    throw new SaslException("The server's first NTLM challenge is not empty: [MS-POP3] has it wait for the client's NEGOTIATE message.");
                return TakeFirstToken();
            case 1:
                if (challenge.IsEmpty)
                    throw new SaslException("The server sent an empty NTLM CHALLENGE message.");
                byte[] authenticate = Step(challenge, "refused the server's CHALLENGE message");
                if (!IsEstablished)
                    throw new SaslException("The platform's NTLM provider wants more than one CHALLENGE message; NTLM has one.");
                return authenticate;
            default:
                throw new SaslException("The server sent a challenge after the NTLM AUTHENTICATE message.");
        }
    }

    /// <inheritdoc/>
    public override void Complete()
    {
        bool sent = _step >= 2;
        Release();
        // A server that lets the client in before it has answered the challenge has checked nothing:
        // not an Exchange server, and not one to hand a mailbox's contents to.
        if (!sent)
            throw new SaslException("The server accepted NTLM before the client had answered its challenge.");
    }
}
