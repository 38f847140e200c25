using System.Net;
using System.Net.Security;
using System.Security.Authentication.ExtendedProtection;

namespace Poplib.Sasl;

/// <summary>
/// The shared part of the mechanisms built on the platform's security packages through
/// <see cref="NegotiateAuthentication"/>: <see cref="SaslNtlm"/> and <see cref="SaslGssapi"/>. No
/// cryptography of these protocols is in this library: on Windows SSPI does it, on Linux and macOS the
/// system's GSSAPI (MIT Kerberos' libgssapi_krb5; NTLM through the gss-ntlmssp plugin on Linux).
/// <para>
/// <see cref="Pop3Client"/> starts the mechanism before it sends <c>AUTH</c>: it names the service
/// (<c>pop/</c> and the host the client connected to, unless <see cref="TargetName"/> says otherwise)
/// and, over TLS, binds the exchange to the server's certificate (<c>tls-server-end-point</c>,
/// RFC 5929), which Exchange's Extended Protection checks. If the platform cannot start the mechanism
/// (no NTLM provider, no Kerberos ticket or realm, a password the KDC refuses) nothing is sent and
/// <see cref="Pop3AuthenticationFailure.MechanismUnavailable"/> is reported.
/// </para>
/// An instance runs one exchange; dispose it afterwards (the security context holds native handles;
/// it is also released when the exchange ends).
/// </summary>
public abstract class SaslNegotiateMechanism : ISaslMechanism, IDisposable
{
    private readonly NetworkCredential _credential;
    private readonly string _package;
    private readonly bool _requireMutualAuthentication;
    private NegotiateAuthentication? _context;
    private ChannelBinding? _channelBinding;
    private byte[]? _firstToken;

    private protected SaslNegotiateMechanism(string package, NetworkCredential credential, bool requireMutualAuthentication)
    {
        _package = package;
        _credential = credential;
        _requireMutualAuthentication = requireMutualAuthentication;
    }

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public bool ExposesSecret => false;

    /// <inheritdoc/>
    public abstract bool HasInitialResponse { get; }

    /// <summary>
    /// The service principal to authenticate to, as <c>service/host</c>. Default <c>pop/</c> and the
    /// host the client connected to: <c>pop</c> is the GSSAPI service name RFC 5034 registers for
    /// POP3 (Windows' service names are case-insensitive, so Exchange's <c>POP/host</c> matches too).
    /// Set it when the server's principal carries another name than the one connected to (an alias
    /// or an address).
    /// </summary>
    public string? TargetName { get; init; }

    /// <summary>
    /// Over TLS, bind the authentication to the TLS connection (<c>tls-server-end-point</c>, a hash of
    /// the server's certificate): a server that requires it (Exchange's Extended Protection) refuses
    /// an exchange relayed through another connection. Servers that do not check it ignore it.
    /// Default <see langword="true"/>.
    /// </summary>
    public bool UseChannelBinding { get; init; } = true;

    /// <summary>The service principal the exchange was started for, once <see cref="Pop3Client"/> has started it.</summary>
    public string? EffectiveTargetName { get; private set; }

    /// <summary>Whether the exchange was bound to the TLS connection (<see cref="UseChannelBinding"/>).</summary>
    public bool IsChannelBound { get; private set; }

    /// <summary>The package the platform negotiated (<c>NTLM</c>, <c>Kerberos</c>), once started.</summary>
    public string? Package => _context?.Package;

    private protected NegotiateAuthentication Context =>
        _context ?? throw new SaslException($"The {Name} exchange was not started: run it through Pop3Client.Auth.");

    /// <summary>
    /// Creates the security context and its first token before anything is sent, so that a machine
    /// that cannot run the mechanism leaves no trace on the wire.
    /// </summary>
    internal void Start(string host, SslStream? tls)
    {
        if (_context is not null)
            throw new InvalidOperationException($"This {Name} mechanism has already run an exchange; make a new one for each login.");
        EffectiveTargetName = TargetName ?? "pop/" + host;
        if (UseChannelBinding && tls?.TransportContext is { } transport)
            _channelBinding = transport.GetChannelBinding(ChannelBindingKind.Endpoint);
        IsChannelBound = _channelBinding is not null;
        _context = new NegotiateAuthentication(new NegotiateAuthenticationClientOptions
        {
            Package = _package,
            Credential = _credential,
            TargetName = EffectiveTargetName,
            Binding = _channelBinding,
            RequireMutualAuthentication = _requireMutualAuthentication,
            // The SASL layer is "none" (RFC 4752) and NTLM's session security is unused: TLS protects the link.
            RequiredProtectionLevel = ProtectionLevel.None,
        });
        _firstToken = Step(default, "could not start");
    }

    /// <summary>The token computed by <see cref="Start"/>, handed out once.</summary>
    private protected byte[] TakeFirstToken()
    {
        byte[] token = _firstToken ?? throw new SaslException($"The {Name} exchange was not started: run it through Pop3Client.Auth.");
        _firstToken = null;
        return token;
    }

    /// <summary>One step of the security context; a failure names the platform's status, never a secret.</summary>
    private protected byte[] Step(ReadOnlySpan<byte> input, string what)
    {
        byte[]? output = Context.GetOutgoingBlob(input, out NegotiateAuthenticationStatusCode status);
        if (status is not (NegotiateAuthenticationStatusCode.Completed or NegotiateAuthenticationStatusCode.ContinueNeeded))
        {
            Release();
            throw new SaslException($"{Name} {what}: the platform's {_package} provider reports {status}{Hint(status)}.");
        }

        return output ?? [];
    }

    /// <summary>Whether the security context is established.</summary>
    private protected bool IsEstablished => _context is { IsAuthenticated: true };

    /// <inheritdoc/>
    public abstract byte[] Respond(ReadOnlySpan<byte> challenge);

    /// <inheritdoc/>
    public abstract void Complete();

    /// <summary>Releases the security context and the channel binding.</summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private protected void Release()
    {
        _context?.Dispose();
        _channelBinding?.Dispose();
        _channelBinding = null;
    }

    private string Hint(NegotiateAuthenticationStatusCode status) => status switch
    {
        NegotiateAuthenticationStatusCode.Unsupported when _package == "NTLM" && !OperatingSystem.IsWindows() =>
            " (on Linux NTLM needs the gss-ntlmssp package)",
        NegotiateAuthenticationStatusCode.Unsupported => $" (this platform has no {_package} provider)",
        NegotiateAuthenticationStatusCode.UnknownCredentials or NegotiateAuthenticationStatusCode.InvalidCredentials =>
            _package == "Kerberos"
                ? " (no Kerberos ticket for these credentials: a wrong password, an unknown realm or KDC, or no kinit)"
                : " (the credentials cannot be used)",
        NegotiateAuthenticationStatusCode.TargetUnknown => $" (no service principal {EffectiveTargetName}: set TargetName)",
        NegotiateAuthenticationStatusCode.InvalidToken => " (the server's token is malformed)",
        _ => "",
    };

    /// <summary>
    /// The credential for a user name as people type it: <c>DOMAIN\user</c> gives the domain
    /// separately (NTLM's form); <c>user@REALM</c> and a bare name are passed as they are.
    /// </summary>
    private protected static NetworkCredential Credential(string userName, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(password);
        int slash = userName.IndexOf('\\', StringComparison.Ordinal);
        if (slash > 0 && slash < userName.Length - 1)
            return new NetworkCredential(userName[(slash + 1)..], password, userName[..slash]);
        if (slash >= 0)
            throw new ArgumentException("A user name with a backslash must read DOMAIN\\user.", nameof(userName));
        return new NetworkCredential(userName, password);
    }
}
