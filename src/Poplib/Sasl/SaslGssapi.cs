using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Text;

namespace Poplib.Sasl;

/// <summary>
/// GSSAPI with Kerberos V5 (RFC 4752): the Kerberos exchange with mutual authentication (the server
/// proves it holds the service key), then the security-layer negotiation, in which this client always
/// chooses "no security layer" — TLS, not SASL, protects the connection. The Kerberos messages come
/// from the platform (<see cref="NegotiateAuthentication"/>: SSPI on Windows, the system's GSSAPI
/// library — MIT Kerberos on Linux), never from this library.
/// <para>
/// Made without a password it uses the ticket the user already has (<c>kinit</c>, or a Windows
/// logon); with one, the platform gets a ticket from the realm's KDC first. Neither the password nor
/// anything derived from it reaches the POP3 server, and the server cannot be an impostor without the
/// service's key; the link itself is not protected, so without TLS it still needs
/// <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/>, like every other login.
/// </para>
/// </summary>
public sealed class SaslGssapi : SaslNegotiateMechanism
{
    // RFC 4752 section 3.1: the security-layer bit masks.
    private const byte NoSecurityLayer = 1;

    private State _state;

    /// <summary>Uses the caller's Kerberos ticket (the default credential cache: <c>kinit</c>; on Windows the logon).</summary>
    public SaslGssapi() : base("Kerberos", CredentialCache.DefaultNetworkCredentials, requireMutualAuthentication: true) { }

    /// <summary>Gets a ticket for the user with a password first.</summary>
    /// <param name="userName"><c>user@REALM</c>, or a bare name in the default realm, or <c>DOMAIN\user</c>.</param>
    /// <param name="password">The password, sent to the KDC only (Kerberos pre-authentication).</param>
    public SaslGssapi(string userName, string password) : base("Kerberos", Credential(userName, password), requireMutualAuthentication: true) { }

    /// <param name="credential">The credential, or <see cref="CredentialCache.DefaultNetworkCredentials"/> for the ticket cache.</param>
    public SaslGssapi(NetworkCredential credential)
        : base("Kerberos", credential ?? throw new ArgumentNullException(nameof(credential)), requireMutualAuthentication: true) { }

    /// <inheritdoc/>
    public override string Name => "GSSAPI";

    /// <summary>Yes: the Kerberos AP-REQ goes with <c>AUTH GSSAPI</c> (or right after it, when the line would be too long).</summary>
    public override bool HasInitialResponse => true;

    /// <summary>
    /// The identity to act as, sent in the security-layer message (empty, the default: the ticket's
    /// own principal). A server allows another only to its administrators.
    /// </summary>
    public string AuthorizationId { get; init; } = "";

    private enum State
    {
        Initial,
        Establishing,
        Established,
        LayerChosen,
    }

    /// <inheritdoc/>
    public override byte[] Respond(ReadOnlySpan<byte> challenge)
    {
        switch (_state)
        {
            case State.Initial:
                _state = IsEstablished ? State.Established : State.Establishing;
                return TakeFirstToken();
            case State.Establishing:
                byte[] token = Step(challenge, "refused the server's Kerberos token");
                if (IsEstablished)
                    _state = State.Established;
                // With the context established the last token may be empty: RFC 4752 sends it anyway.
                return token;
            case State.Established:
                _state = State.LayerChosen;
                return ChooseNoSecurityLayer(challenge);
            default:
                throw new SaslException("The server sent a challenge after the GSSAPI security-layer message.");
        }
    }

    /// <inheritdoc/>
    public override void Complete()
    {
        bool negotiated = _state == State.LayerChosen;
        Release();
        // The security-layer message is the server's proof that it completed the context (it is
        // wrapped with the session key); +OK before it means the server has not shown it holds the key.
        if (!negotiated)
            throw new SaslException("The server accepted GSSAPI before the security-layer negotiation: it has not proven it holds the service key.");
    }

    // RFC 4752 section 3.1: unwrap the server's four octets (offered layers, maximum message size),
    // answer with "no security layer", a maximum size of 0 and the authorization identity, wrapped
    // without confidentiality.
    private byte[] ChooseNoSecurityLayer(ReadOnlySpan<byte> challenge)
    {
        var offer = new ArrayBufferWriter<byte>(8);
        NegotiateAuthenticationStatusCode status = Context.Unwrap(challenge, offer, out _);
        if (status != NegotiateAuthenticationStatusCode.Completed)
            throw new SaslException($"The server's GSSAPI security-layer message does not unwrap ({status}): it was not made with this session's key.") { ServerNotAuthenticated = true };
        if (offer.WrittenCount != 4)
            throw new SaslException($"The server's GSSAPI security-layer message holds {offer.WrittenCount} octets instead of 4.");
        if ((offer.WrittenSpan[0] & NoSecurityLayer) == 0)
            throw new SaslException($"The server requires a GSSAPI security layer (offered: 0x{offer.WrittenSpan[0]:x2}); this client uses TLS instead and supports none.");

        byte[] choice = new byte[4 + Encoding.UTF8.GetByteCount(AuthorizationId)];
        BinaryPrimitives.WriteUInt32BigEndian(choice, (uint)NoSecurityLayer << 24); // maximum size 0: no layer
        Encoding.UTF8.GetBytes(AuthorizationId, choice.AsSpan(4));
        var wrapped = new ArrayBufferWriter<byte>(64 + choice.Length);
        status = Context.Wrap(choice, wrapped, requestEncryption: false, out _);
        if (status != NegotiateAuthenticationStatusCode.Completed)
            throw new SaslException($"The GSSAPI security-layer answer could not be wrapped ({status}).");
        return wrapped.WrittenSpan.ToArray();
    }
}
