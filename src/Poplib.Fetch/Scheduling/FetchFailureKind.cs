namespace Poplib.Fetch.Scheduling;

/// <summary>
/// Why a fetch run failed, as far as scheduling cares: each kind decides how long
/// <see cref="BackoffPolicy"/> waits before the account's next run.
/// </summary>
/// <remarks>
/// The first fourteen members mirror the engine's own failure classification one to one; <see cref="Unexpected"/>
/// and <see cref="Cancelled"/> are the scheduler's own (a run delegate that threw, a run cut short by shutdown).
/// <see cref="FetchFailureKinds.FromResponseCode"/> maps the POP3 response codes of RFC 2449 and RFC 3206.
/// </remarks>
public enum FetchFailureKind
{
    /// <summary>The server could not be reached or the connection broke. Transient: normal escalation.</summary>
    Connection,

    /// <summary>The server did not answer in time. Transient: normal escalation.</summary>
    Timeout,

    /// <summary>The TLS handshake or certificate check failed. Transient: normal escalation (a renewed certificate fixes it).</summary>
    Tls,

    /// <summary>
    /// The credentials were refused (<c>[AUTH]</c>, RFC 3206, or a plain <c>-ERR</c> to PASS/AUTH). Permanent: a wrong password
    /// retried often gets the account locked, so the back-off starts long (<see cref="BackoffPolicy.PermanentFailureDelay"/>).
    /// </summary>
    Authentication,

    /// <summary><c>[IN-USE]</c> (RFC 2449): another session holds the maildrop. Transient: normal escalation.</summary>
    InUse,

    /// <summary>
    /// <c>[LOGIN-DELAY]</c> (RFC 2449): the account logged in too recently. The next run waits at least the server's
    /// delay (CAPA <c>LOGIN-DELAY n</c>), or <see cref="BackoffPolicy.UnknownLoginDelay"/> when it was not announced.
    /// </summary>
    LoginDelay,

    /// <summary><c>[SYS/TEMP]</c> (RFC 3206): a temporary problem on the server. Transient: normal escalation.</summary>
    ServerTemporary,

    /// <summary><c>[SYS/PERM]</c> (RFC 3206): a permanent problem on the server that needs its administrator. Permanent.</summary>
    ServerPermanent,

    /// <summary>The server broke the protocol (a malformed or unexpected reply). Transient: normal escalation.</summary>
    Protocol,

    /// <summary>
    /// Another local process (a one-shot <c>poplib fetch</c>, another daemon) holds the account's lock. Not the account's
    /// fault and not the server's: the next run comes after the normal interval, without escalation.
    /// </summary>
    AccountLocked,

    /// <summary>The mailbox's identity changed (UIDLs reset, another server behind the name). Permanent: needs a person.</summary>
    IdentityChanged,

    /// <summary>The destination refused or failed (Maildir, mbox, MDA, LMTP, application sink). Transient: normal escalation.</summary>
    Destination,

    /// <summary>The state store (the delivery journal) failed. Transient: normal escalation.</summary>
    State,

    /// <summary>The account's configuration is invalid. Permanent: retrying cannot help until the configuration changes.</summary>
    Configuration,

    /// <summary>
    /// The run delegate threw an exception it did not classify (a bug, or a failure nobody foresaw). The scheduler records it
    /// and goes on; transient: normal escalation.
    /// </summary>
    Unexpected,

    /// <summary>
    /// The scheduler cancelled the run because it was stopping and the grace period ran out. Not the account's fault;
    /// recorded in the status only (the scheduler is stopping, so no next run is planned).
    /// </summary>
    Cancelled,
}

/// <summary>Helpers for <see cref="FetchFailureKind"/>.</summary>
public static class FetchFailureKinds
{
    /// <summary>
    /// The failure kind a POP3 response code (RFC 2449 section 8, RFC 3206) stands for, or <see langword="null"/> for
    /// codes that say nothing about scheduling (<see cref="Pop3ResponseCode.None"/>, <see cref="Pop3ResponseCode.Utf8"/>,
    /// <see cref="Pop3ResponseCode.Other"/>): the caller classifies those by the command that failed.
    /// </summary>
    /// <param name="code">The code of the <c>-ERR</c> reply that ended the run.</param>
    public static FetchFailureKind? FromResponseCode(Pop3ResponseCode code) => code switch
    {
        Pop3ResponseCode.InUse => FetchFailureKind.InUse,
        Pop3ResponseCode.LoginDelay => FetchFailureKind.LoginDelay,
        Pop3ResponseCode.SysTemp => FetchFailureKind.ServerTemporary,
        Pop3ResponseCode.SysPerm => FetchFailureKind.ServerPermanent,
        Pop3ResponseCode.Auth => FetchFailureKind.Authentication,
        _ => null,
    };

    /// <summary>
    /// Whether retrying soon cannot help (<see cref="FetchFailureKind.Authentication"/>, <see cref="FetchFailureKind.ServerPermanent"/>,
    /// <see cref="FetchFailureKind.Configuration"/>, <see cref="FetchFailureKind.IdentityChanged"/>): these back off on
    /// <see cref="BackoffPolicy.PermanentFailureDelay"/>'s faster, longer ladder.
    /// </summary>
    /// <param name="kind">The failure kind.</param>
    public static bool IsPermanent(FetchFailureKind kind) => kind is FetchFailureKind.Authentication
        or FetchFailureKind.ServerPermanent or FetchFailureKind.Configuration or FetchFailureKind.IdentityChanged;
}
