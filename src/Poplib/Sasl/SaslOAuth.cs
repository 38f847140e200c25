using System.Globalization;
using System.Text;

namespace Poplib.Sasl;

/// <summary>
/// The shared part of the OAuth 2.0 bearer-token mechanisms: one initial response carrying the token;
/// a failure comes back as a challenge holding a JSON error, which the client acknowledges so that the
/// server can finish with <c>-ERR</c>. The JSON is kept in <see cref="ErrorJson"/>.
/// </summary>
public abstract class SaslOAuthMechanism : ISaslMechanism
{
    private bool _sent;

    private protected SaslOAuthMechanism(string userName, string accessToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentException.ThrowIfNullOrEmpty(accessToken);
        if ((userName + accessToken).AsSpan().IndexOfAny('\u0001', '\r', '\n') >= 0)
            throw new ArgumentException("The user name and the token cannot contain control characters.");
        UserName = userName;
        AccessToken = accessToken;
    }

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public bool ExposesSecret => true;

    /// <inheritdoc/>
    public bool HasInitialResponse => true;

    /// <summary>The server's error document (JSON, RFC 7628 section 3.2.2) when it refused the token.</summary>
    public string? ErrorJson { get; private set; }

    private protected string UserName { get; }

    private protected string AccessToken { get; }

    private protected abstract byte[] InitialResponse();

    /// <summary>What the client answers to the error challenge.</summary>
    private protected abstract byte[] ErrorAcknowledgement { get; }

    /// <inheritdoc/>
    public byte[] Respond(ReadOnlySpan<byte> challenge)
    {
        if (!_sent)
        {
            _sent = true;
            return InitialResponse();
        }

        if (ErrorJson is not null)
            throw new SaslException($"The server sent another {Name} challenge after its error.");
        ErrorJson = Encoding.UTF8.GetString(challenge);
        return ErrorAcknowledgement;
    }

    /// <inheritdoc/>
    public void Complete()
    {
    }
}

/// <summary>XOAUTH2 (Google's and Microsoft's mechanism): <c>user=…^Aauth=Bearer token^A^A</c>.</summary>
public sealed class SaslXOAuth2 : SaslOAuthMechanism
{
    /// <param name="userName">The mailbox's address.</param>
    /// <param name="accessToken">The OAuth 2.0 access token.</param>
    public SaslXOAuth2(string userName, string accessToken) : base(userName, accessToken) { }

    /// <inheritdoc/>
    public override string Name => "XOAUTH2";

    private protected override byte[] InitialResponse() => Encoding.UTF8.GetBytes($"user={UserName}\u0001auth=Bearer {AccessToken}\u0001\u0001");

    private protected override byte[] ErrorAcknowledgement => [];
}

/// <summary>OAUTHBEARER (RFC 7628).</summary>
public sealed class SaslOAuthBearer : SaslOAuthMechanism
{
    private readonly string? _host;
    private readonly int _port;

    /// <param name="userName">The mailbox's address (sent as the authorization identity).</param>
    /// <param name="accessToken">The OAuth 2.0 access token.</param>
    /// <param name="host">The server's host name, sent as <c>host=</c> (optional).</param>
    /// <param name="port">The server's port, sent as <c>port=</c> when positive (optional).</param>
    public SaslOAuthBearer(string userName, string accessToken, string? host = null, int port = 0) : base(userName, accessToken)
    {
        _host = host;
        _port = port;
    }

    /// <inheritdoc/>
    public override string Name => "OAUTHBEARER";

    private protected override byte[] InitialResponse()
    {
        // gs2 header: no channel binding, authzid escaped as in RFC 5801 ("," and "=").
        string authzid = UserName.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal);
        var message = new StringBuilder($"n,a={authzid},\u0001");
        if (!string.IsNullOrEmpty(_host))
            message.Append(CultureInfo.InvariantCulture, $"host={_host}\u0001");
        if (_port > 0)
            message.Append(CultureInfo.InvariantCulture, $"port={_port}\u0001");
        message.Append(CultureInfo.InvariantCulture, $"auth=Bearer {AccessToken}\u0001\u0001");
        return Encoding.UTF8.GetBytes(message.ToString());
    }

    // RFC 7628 section 3.2.3: the client answers the error with a single %x01.
    private protected override byte[] ErrorAcknowledgement => [0x01];
}
