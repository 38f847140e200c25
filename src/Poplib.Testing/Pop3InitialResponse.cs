namespace Poplib.Testing;

/// <summary>How a <see cref="Pop3TestServer"/> treats a SASL initial response sent on the AUTH line (<see cref="Pop3TestServerOptions.OAuthInitialResponse"/>).</summary>
public enum Pop3InitialResponse
{
    /// <summary>Taken, as RFC 5034 allows (Gmail); the two-step form (<c>AUTH XOAUTH2</c>, <c>+ </c>, the response) works too.</summary>
    Accepted,

    /// <summary>
    /// Refused as Microsoft 365 does (getmail6 issue 256): <c>-ERR Protocol error. Connection is closed. 10</c>
    /// and the connection closes, so only the two-step form logs in.
    /// </summary>
    RefusedClosingConnection,
}
