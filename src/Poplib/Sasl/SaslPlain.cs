using System.Text;

namespace Poplib.Sasl;

/// <summary>PLAIN (RFC 4616): authorization identity, user name and password in one message. Needs TLS.</summary>
public sealed class SaslPlain : ISaslMechanism
{
    private readonly string _userName;
    private readonly string _password;
    private readonly string _authorizationId;
    private bool _sent;

    /// <param name="userName">The authentication identity.</param>
    /// <param name="password">The password.</param>
    /// <param name="authorizationId">The identity to act as (empty: the same as <paramref name="userName"/>).</param>
    public SaslPlain(string userName, string password, string authorizationId = "")
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(authorizationId);
        if ((userName + password + authorizationId).Contains('\0', StringComparison.Ordinal))
            throw new ArgumentException("PLAIN credentials cannot contain NUL.");
        _userName = userName;
        _password = password;
        _authorizationId = authorizationId;
    }

    /// <inheritdoc/>
    public string Name => "PLAIN";

    /// <inheritdoc/>
    public bool ExposesSecret => true;

    /// <inheritdoc/>
    public bool HasInitialResponse => true;

    /// <inheritdoc/>
    public byte[] Respond(ReadOnlySpan<byte> challenge)
    {
        if (_sent)
            throw new SaslException("The server sent a challenge after the PLAIN response.");
        _sent = true;
        return Encoding.UTF8.GetBytes($"{_authorizationId}\0{_userName}\0{_password}");
    }

    /// <inheritdoc/>
    public void Complete()
    {
    }
}
