namespace Poplib;

/// <summary>
/// The proxy in <see cref="Pop3ClientOptions.Proxy"/> could not be reached, refused us or the
/// connection to the server, or broke its own protocol. Nothing was said to the POP3 server, and the
/// connection is closed. <see cref="Exception.Message"/> names the proxy (its password masked) and
/// what went wrong; what the proxy said is quoted escaped, so the message is safe to print.
/// </summary>
public sealed class Pop3ProxyException : Pop3Exception
{
    /// <summary>Creates the exception for a proxy, the reason, and the proxy's reply code when it gave one.</summary>
    public Pop3ProxyException(Pop3Proxy proxy, Pop3ProxyFailure reason, string message, int? replyCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        Proxy = proxy;
        Reason = reason;
        ReplyCode = replyCode;
    }

    /// <summary>The proxy (its <see cref="Pop3Proxy.ToString"/> masks the password).</summary>
    public Pop3Proxy Proxy { get; }

    /// <summary>What went wrong; decides what the caller should change.</summary>
    public Pop3ProxyFailure Reason { get; }

    /// <summary>The proxy's own code, when it answered with one: the SOCKS5 <c>REP</c> or SOCKS4 <c>CD</c> octet, or the HTTP status.</summary>
    public int? ReplyCode { get; }
}

/// <summary>Why a <see cref="Pop3ProxyException"/> was thrown.</summary>
public enum Pop3ProxyFailure
{
    /// <summary>Connecting to the proxy itself failed (the inner exception says how): check its host and port.</summary>
    ProxyUnreachable,

    /// <summary>The proxy wants credentials that were not given (SOCKS5 method 0xFF, HTTP 407), or refused the ones given.</summary>
    AuthenticationFailed,

    /// <summary>
    /// The proxy could not or would not connect to the POP3 server: a SOCKS reply code (host unreachable,
    /// connection refused, not allowed by its rules …) or an HTTP status other than 2xx and 407. <see cref="Pop3ProxyException.ReplyCode"/> holds it.
    /// </summary>
    ConnectFailed,

    /// <summary>The proxy's reply was not its protocol: a wrong version, a method not offered, a malformed or overlong reply, or the connection closed mid-handshake.</summary>
    ProtocolViolation,
}
