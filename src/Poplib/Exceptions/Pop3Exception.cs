namespace Poplib;

/// <summary>
/// Base type of every error that Poplib itself raises (Python's <c>poplib.error_proto</c>).
/// Catch a subtype to decide what to do next:
/// <see cref="Pop3CommandException"/> (the server said <c>-ERR</c>; the session goes on) or
/// <see cref="Pop3ProtocolException"/> (the server broke the protocol; the connection is closed).
/// Transport failures stay <see cref="IOException"/>, <see cref="System.Net.Sockets.SocketException"/>,
/// <see cref="System.Security.Authentication.AuthenticationException"/> and <see cref="TimeoutException"/>.
/// </summary>
public class Pop3Exception : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public Pop3Exception(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public Pop3Exception(string message, Exception? innerException) : base(message, innerException) { }
}
