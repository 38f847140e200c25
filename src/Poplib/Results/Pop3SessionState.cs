namespace Poplib;

/// <summary>The RFC 1939 session state a <see cref="Pop3Client"/> is in.</summary>
public enum Pop3SessionState
{
    /// <summary>Connected, not yet authenticated: USER/PASS, APOP, RPOP, CAPA, STLS and UTF8 are allowed.</summary>
    Authorization,

    /// <summary>Authenticated: the mailbox is locked and the mail commands are allowed.</summary>
    Transaction,

    /// <summary>The connection is closed (after QUIT, Dispose, or a broken protocol).</summary>
    Closed,
}
