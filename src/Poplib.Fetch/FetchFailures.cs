namespace Poplib.Fetch;

/// <summary>
/// How a long-running retriever treats each <see cref="FetchFailure"/>: whether retrying soon can help
/// (<see cref="IsPermanent"/>) and which POP3 response codes stand for which failure (<see cref="FromResponseCode"/>).
/// <see cref="Scheduling.BackoffPolicy"/> and <see cref="Scheduling.FetchScheduler"/> decide by it.
/// </summary>
/// <remarks>
/// <para>The classification, member by member:</para>
/// <list type="bullet">
/// <item><description><b>Permanent</b> (a person must act; retried on the long ladder of
/// <see cref="Scheduling.BackoffPolicy.PermanentFailureDelay"/>): <see cref="FetchFailure.Authentication"/> (a wrong password
/// retried often gets the account locked), <see cref="FetchFailure.ServerPermanent"/> (<c>[SYS/PERM]</c>),
/// <see cref="FetchFailure.ServerRefused"/> (the server refuses a command it advertises, e.g. UIDL: it will refuse it
/// again until someone changes the server or the account), <see cref="FetchFailure.IdentityChanged"/> and
/// <see cref="FetchFailure.Configuration"/>.</description></item>
/// <item><description><b>Not the account's fault</b> (the next run after the normal interval, not counted as a failure):
/// <see cref="FetchFailure.AccountLocked"/> (another local process is fetching the account) and
/// <see cref="FetchFailure.Canceled"/> (the run was cut short because the retriever is stopping) and
/// <see cref="FetchFailure.LeaseLost"/> (another worker of a shared store holds the account now).</description></item>
/// <item><description><b><see cref="FetchFailure.LoginDelay"/></b>: transient, but never retried before the server's delay.</description></item>
/// <item><description><b>Transient</b> (normal escalation, capped at an hour): everything else —
/// <see cref="FetchFailure.Connection"/>, <see cref="FetchFailure.Timeout"/>, <see cref="FetchFailure.Tls"/> (a renewed
/// certificate fixes it), <see cref="FetchFailure.InUse"/>, <see cref="FetchFailure.ServerTemporary"/>,
/// <see cref="FetchFailure.Protocol"/>, <see cref="FetchFailure.Destination"/>, <see cref="FetchFailure.DestinationBusy"/>
/// (an mbox lock held by another program), <see cref="FetchFailure.Rejected"/> (the destination refused some messages: they
/// stay on the server, and the other messages of the mailbox must not wait hours because of them),
/// <see cref="FetchFailure.State"/>, <see cref="FetchFailure.RunTimeExceeded"/> (the next run goes on where this one
/// stopped) and <see cref="FetchFailure.Unexpected"/>.</description></item>
/// </list>
/// </remarks>
public static class FetchFailures
{
    /// <summary>
    /// The failure a POP3 response code (RFC 2449 section 8, RFC 3206) stands for, or <see langword="null"/> for codes that
    /// say nothing about scheduling (<see cref="Pop3ResponseCode.None"/>, <see cref="Pop3ResponseCode.Utf8"/>,
    /// <see cref="Pop3ResponseCode.Other"/>): the caller classifies those by the command that failed.
    /// </summary>
    /// <param name="code">The code of the <c>-ERR</c> reply that ended the run.</param>
    public static FetchFailure? FromResponseCode(Pop3ResponseCode code) => code switch
    {
        Pop3ResponseCode.InUse => FetchFailure.InUse,
        Pop3ResponseCode.LoginDelay => FetchFailure.LoginDelay,
        Pop3ResponseCode.SysTemp => FetchFailure.ServerTemporary,
        Pop3ResponseCode.SysPerm => FetchFailure.ServerPermanent,
        Pop3ResponseCode.Auth => FetchFailure.Authentication,
        _ => null,
    };

    /// <summary>
    /// Whether retrying soon cannot help: <see cref="FetchFailure.Authentication"/>, <see cref="FetchFailure.ServerPermanent"/>,
    /// <see cref="FetchFailure.ServerRefused"/>, <see cref="FetchFailure.Configuration"/> and
    /// <see cref="FetchFailure.IdentityChanged"/>. These back off on <see cref="Scheduling.BackoffPolicy.PermanentFailureDelay"/>'s
    /// longer ladder.
    /// </summary>
    /// <param name="failure">The failure.</param>
    public static bool IsPermanent(FetchFailure failure) => failure is FetchFailure.Authentication
        or FetchFailure.ServerPermanent or FetchFailure.ServerRefused or FetchFailure.Configuration or FetchFailure.IdentityChanged;

    /// <summary>
    /// Whether the failure is not the account's fault and so does not count as a consecutive failure nor escalate the
    /// back-off: <see cref="FetchFailure.AccountLocked"/>, <see cref="FetchFailure.Canceled"/> and <see cref="FetchFailure.LeaseLost"/>.
    /// </summary>
    /// <param name="failure">The failure.</param>
    public static bool IsNotTheAccountsFault(FetchFailure failure) =>
        failure is FetchFailure.AccountLocked or FetchFailure.Canceled or FetchFailure.LeaseLost;
}
