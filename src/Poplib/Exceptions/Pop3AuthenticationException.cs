namespace Poplib;

/// <summary>
/// The client refused to authenticate, before sending anything, because doing so would expose a
/// secret: for example a password over a connection that is not encrypted while
/// <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/> is off. The connection is still usable
/// (call <see cref="Pop3Client.Stls(System.Net.Security.SslClientAuthenticationOptions?)"/> first, for instance).
/// A server's <c>-ERR</c> to a login command is a <see cref="Pop3CommandException"/> instead.
/// </summary>
public sealed class Pop3AuthenticationException : Pop3Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public Pop3AuthenticationException(string message) : base(message) { }
}
