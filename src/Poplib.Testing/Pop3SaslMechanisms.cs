namespace Poplib.Testing;

/// <summary>The SASL mechanisms a <see cref="Pop3TestServer"/> offers (<see cref="Pop3TestServerOptions.SaslMechanisms"/>).</summary>
[Flags]
public enum Pop3SaslMechanisms
{
    /// <summary>None: CAPA lists no SASL line and AUTH refuses every mechanism.</summary>
    None = 0,

    /// <summary>PLAIN (RFC 4616), checked against the users' passwords; refused without TLS unless <see cref="Pop3TestServerOptions.AllowPlaintextWithoutTls"/>.</summary>
    Plain = 1,

    /// <summary>
    /// NTLM as Exchange does it ([MS-POP3]), checked by the platform's NTLM acceptor. On Linux that is
    /// the gss-ntlmssp package, which reads the users from the file the <c>NTLM_USER_FILE</c>
    /// environment variable names, a <c>DOMAIN:user:password</c> line each: the server writes its users
    /// there (<see cref="Pop3TestServerOptions.NtlmDomain"/>), so the variable must be in the process's
    /// environment from its start (native code never sees a variable set from .NET).
    /// </summary>
    Ntlm = 2,

    /// <summary>
    /// GSSAPI with Kerberos (RFC 4752), checked by the platform's Kerberos acceptor with the keytab the
    /// <c>KRB5_KTNAME</c> environment variable names (a key for <c>pop/HOST</c>); the security layer
    /// offered is "none". The authenticated principal (<c>user@REALM</c>) logs in as the user of that
    /// name, or else as the user named by the part before the <c>@</c>.
    /// </summary>
    Gssapi = 4,

    /// <summary>
    /// XOAUTH2 (Google's and Microsoft's mechanism: <c>user=…^Aauth=Bearer token^A^A</c>): the user must
    /// exist and <see cref="Pop3TestServerOptions.AccessTokenValidator"/> must accept the token.
    /// </summary>
    XOAuth2 = 8,

    /// <summary>OAUTHBEARER (RFC 7628), checked like <see cref="XOAuth2"/>; the user is the message's authorization identity (<c>a=</c>).</summary>
    OAuthBearer = 16,
}
