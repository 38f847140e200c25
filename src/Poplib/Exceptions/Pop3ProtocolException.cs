namespace Poplib;

/// <summary>
/// The server broke the protocol: a malformed or overlong reply, a listing that contradicts itself,
/// the connection closed in the middle of a reply, or bytes where none were allowed. The client has
/// closed the connection, because nothing that follows on it could be trusted; connect again.
/// </summary>
public class Pop3ProtocolException : Pop3Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public Pop3ProtocolException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public Pop3ProtocolException(string message, Exception? innerException) : base(message, innerException) { }
}
