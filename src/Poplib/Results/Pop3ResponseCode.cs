namespace Poplib;

/// <summary>
/// Extended response codes (RFC 2449 section 8, RFC 3206) that a server may put in square brackets
/// at the start of a reply's text. They tell a caller why a command failed, so that it can tell
/// "wrong password" from "mailbox busy, retry later".
/// </summary>
public enum Pop3ResponseCode
{
    /// <summary>The reply carried no response code.</summary>
    None = 0,

    /// <summary><c>[IN-USE]</c>: the mailbox is locked by another session; retry later.</summary>
    InUse,

    /// <summary><c>[LOGIN-DELAY]</c>: the user logged in too recently; retry after the advertised delay.</summary>
    LoginDelay,

    /// <summary><c>[SYS/TEMP]</c>: a temporary system problem on the server; retry later.</summary>
    SysTemp,

    /// <summary><c>[SYS/PERM]</c>: a permanent system problem; retrying will not help.</summary>
    SysPerm,

    /// <summary><c>[AUTH]</c>: the credentials were wrong (RFC 3206).</summary>
    Auth,

    /// <summary><c>[UTF8]</c>: the command needs UTF-8 mode (RFC 6856).</summary>
    Utf8,

    /// <summary>A code this library does not know; see <see cref="Pop3Response.CodeText"/>.</summary>
    Other,
}
