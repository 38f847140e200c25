namespace Poplib.Sasl;

/// <summary>
/// A SASL mechanism (RFC 4422) for <see cref="Pop3Client.Auth(ISaslMechanism)"/>. An instance runs one
/// authentication exchange and keeps its state between steps; make a new one for each login.
/// Implement it to add a mechanism of your own.
/// </summary>
public interface ISaslMechanism
{
    /// <summary>The registered mechanism name, for example <c>SCRAM-SHA-256</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Whether the exchange reveals the secret itself to anyone who can read it (PLAIN, LOGIN, bearer
    /// tokens), rather than something derived from it (CRAM-MD5, SCRAM). On an unencrypted connection
    /// both kinds are refused unless <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/> is set
    /// (see <see cref="UsesSecret"/>); opted in, <see cref="Pop3Client.Login(string, string)"/> still
    /// prefers mechanisms that do not reveal it.
    /// </summary>
    bool ExposesSecret { get; }

    /// <summary>
    /// Whether the exchange is made from a secret — a password or a token — and so gives an
    /// eavesdropper the secret or what to crack it from offline (PLAIN and LOGIN show it; CRAM-MD5's
    /// and SCRAM's messages are enough for a dictionary attack). Such mechanisms are refused on an
    /// unencrypted connection unless <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/> is
    /// set. Default <see langword="true"/>, the safe assumption; a mechanism whose messages hold no
    /// secret at all, such as EXTERNAL (the identity comes from a client certificate or the
    /// transport) or ANONYMOUS, returns <see langword="false"/> and runs on any connection.
    /// </summary>
    bool UsesSecret => true;

    /// <summary>Whether the client speaks first (RFC 4422 initial response), sent with the AUTH command.</summary>
    bool HasInitialResponse { get; }

    /// <summary>
    /// Computes the next client response: first the initial response (with an empty challenge) when
    /// <see cref="HasInitialResponse"/> is set, then one response for each server challenge.
    /// Throw <see cref="SaslException"/> to abort: the client then cancels the exchange with <c>*</c>,
    /// or, when <see cref="SaslException.ServerNotAuthenticated"/> is set, closes the connection.
    /// </summary>
    byte[] Respond(ReadOnlySpan<byte> challenge);

    /// <summary>
    /// Called when the server accepts the login. A mechanism that authenticates the server (SCRAM's
    /// server signature) throws <see cref="SaslException"/> here if the server has not proven itself;
    /// the client then closes the connection.
    /// </summary>
    void Complete();
}

/// <summary>
/// A SASL mechanism gave up: a malformed or unauthenticated server message, or bad input. By default
/// the client cancels the exchange (<c>*</c>) and the session goes on. A mechanism that authenticates
/// the server sets <see cref="ServerNotAuthenticated"/> when the server fails to prove itself: the
/// client then closes the connection instead and reports
/// <see cref="Pop3AuthenticationFailure.ServerNotAuthenticated"/>.
/// </summary>
public sealed class SaslException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public SaslException(string message) : base(message) { }

    /// <summary>
    /// The server failed to prove its identity (SCRAM: a wrong or missing server signature): it may be
    /// an impostor, so nothing more is said to it and nothing it says is believed — the connection is
    /// closed. Throw such an exception from <see cref="ISaslMechanism.Respond"/> or
    /// <see cref="ISaslMechanism.Complete"/> (from <c>Complete</c>, every <see cref="SaslException"/>
    /// counts as this, since the server has already said <c>+OK</c>).
    /// </summary>
    public bool ServerNotAuthenticated { get; init; }
}
