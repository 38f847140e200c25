namespace Poplib.Testing.OAuth;

/// <summary>The endpoints of an <see cref="OAuth2TestServer"/>, for its counters, its last requests and its faults.</summary>
public enum OAuth2Endpoint
{
    /// <summary>The token endpoint (RFC 6749 section 3.2), <c>POST /token</c>.</summary>
    Token,

    /// <summary>The device authorization endpoint (RFC 8628 section 3.1), <c>POST /devicecode</c>.</summary>
    DeviceAuthorization,

    /// <summary>The authorization endpoint (RFC 6749 section 3.1), <c>GET /authorize</c>.</summary>
    Authorization,
}
