namespace Poplib;

/// <summary>
/// The client refused or abandoned a login: before sending anything, because the connection is not
/// encrypted while <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/> is off (anything derived
/// from a password could be read or cracked), or because the server offers no method this client
/// supports, or because the platform cannot run the mechanism (NTLM, GSSAPI); or during a SASL exchange, because the mechanism gave up or the server failed to prove
/// itself (a wrong SCRAM signature: the connection is then closed).
/// Unless <see cref="Pop3Client.IsConnected"/> says otherwise, the session is still usable (call
/// <see cref="Pop3Client.Stls(System.Net.Security.SslClientAuthenticationOptions?)"/> first, for instance).
/// A server's <c>-ERR</c> to a login command is a <see cref="Pop3CommandException"/> instead.
/// </summary>
public sealed class Pop3AuthenticationException : Pop3Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public Pop3AuthenticationException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public Pop3AuthenticationException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a message, its cause and the reason.</summary>
    public Pop3AuthenticationException(string message, Exception? innerException, Pop3AuthenticationFailure reason)
        : base(message, innerException) => Reason = reason;

    /// <summary>Why the client refused or gave up; decides what the caller should change.</summary>
    public Pop3AuthenticationFailure Reason { get; } = Pop3AuthenticationFailure.Cancelled;
}

/// <summary>Why a <see cref="Pop3AuthenticationException"/> was thrown.</summary>
public enum Pop3AuthenticationFailure
{
    /// <summary>The connection is not encrypted and the method uses a password or token: use TLS, or opt in.</summary>
    InsecureConnection,

    /// <summary>The server offers no method this client can use.</summary>
    NoSupportedMethod,

    /// <summary>The mechanism gave up mid-exchange (malformed challenge, unusable input) and cancelled it.</summary>
    Cancelled,

    /// <summary>
    /// The server failed to prove its identity (a wrong or missing SCRAM signature, or a mechanism's
    /// <see cref="Sasl.SaslException.ServerNotAuthenticated"/>): possibly an impostor. The connection is closed.
    /// </summary>
    ServerNotAuthenticated,

    /// <summary>
    /// The platform cannot run the mechanism (<see cref="Sasl.SaslNtlm"/>, <see cref="Sasl.SaslGssapi"/>):
    /// no NTLM provider (on Linux the gss-ntlmssp package), no Kerberos ticket, realm or KDC, or a
    /// password the KDC refused. Nothing was sent; the session goes on.
    /// <see cref="Pop3Client.Login(string, string)"/> moves on to the next method the server offers.
    /// </summary>
    MechanismUnavailable,
}
