using System.Net.Sockets;
using System.Security.Authentication;

namespace Poplib.Fetch;

/// <summary>
/// Why an account's run failed: what a scheduler needs to decide when to try again, without parsing
/// messages. Temporary kinds (<see cref="FetchException.IsTemporary"/>) are worth a retry as they are;
/// the others need a person (a password, a config, a full disk) or a decision.
/// </summary>
public enum FetchFailure
{
    /// <summary>A failure the engine did not expect: a bug, or an exception from your own code it cannot classify.</summary>
    Unexpected,

    /// <summary>The server could not be reached or the connection broke: DNS, refused, reset, closed.</summary>
    Connection,

    /// <summary>The server did not answer in time (a read or connect timeout).</summary>
    Timeout,

    /// <summary>TLS failed: the handshake, or the server's certificate was not trusted.</summary>
    Tls,

    /// <summary>The server refused the credentials (or login was refused for a reason that is not temporary).</summary>
    Authentication,

    /// <summary>The mailbox is in use by another session (<c>[IN-USE]</c>, RFC 2449): try again later.</summary>
    InUse,

    /// <summary>The server says this account logged in too recently (<c>[LOGIN-DELAY]</c>); see <see cref="FetchException.LoginDelay"/>.</summary>
    LoginDelay,

    /// <summary>A temporary server problem (<c>[SYS/TEMP]</c>): try again later.</summary>
    ServerTemporary,

    /// <summary>A permanent server problem (<c>[SYS/PERM]</c>): a person must look.</summary>
    ServerPermanent,

    /// <summary>The server refused a command it should accept (a <c>-ERR</c> without a response code), e.g. UIDL it advertises, or both UIDL and TOP.</summary>
    ServerRefused,

    /// <summary>The server broke the protocol; the connection was closed.</summary>
    Protocol,

    /// <summary>Another run on this machine (or on the same state store) holds this account's lock.</summary>
    AccountLocked,

    /// <summary>The mailbox's identities changed (a UIDL reset, the same mailbox under another name) and the policy says refuse: nothing was fetched.</summary>
    IdentityChanged,

    /// <summary>Local delivery failed: a Maildir, mbox or spool could not be written, a delivery command failed to run or timed out, a sink threw or timed out.</summary>
    Destination,

    /// <summary>The destination is locked by another program (an mbox lock held too long): try again later.</summary>
    DestinationBusy,

    /// <summary>The destination rejected one or more messages (a delivery command's non-zero exit); they stay on the server.</summary>
    Rejected,

    /// <summary>The state store failed (cannot open, wrong schema, a write failed).</summary>
    State,

    /// <summary>The account or its configuration is wrong (also: a file that should be private is not).</summary>
    Configuration,

    /// <summary>The run reached <see cref="FetchPolicy.MaxRunTime"/>: what arrived whole is delivered; nothing was deleted in this run.</summary>
    RunTimeExceeded,

    /// <summary>The caller's cancellation token was cancelled: what arrived whole is delivered; nothing was deleted in this run.</summary>
    Canceled,

    /// <summary>
    /// The run lost its lease on the account (a shared state store such as PostgreSQL: the lease expired while the worker
    /// was cut off or frozen, and another worker may hold the account now). The run stopped before recording or deleting
    /// anything more; what it recorded before is kept, and the account's next holder settles the rest.
    /// </summary>
    LeaseLost,
}

/// <summary>
/// An account's run failed. <see cref="Failure"/> says why, <see cref="Result"/> what the run did
/// before it stopped (messages delivered before a failure are delivered and recorded), and
/// <see cref="LoginDelay"/> how long the server asks clients to wait between logins, when it said.
/// A failed run never deletes a message that is not durably delivered and recorded.
/// </summary>
public sealed class FetchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FetchException(FetchFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
    }

    /// <summary>Why the run failed.</summary>
    public FetchFailure Failure { get; }

    /// <summary>The account's counts up to the failure (null when the failure came before the run started).</summary>
    public FetchResult? Result { get; internal set; }

    /// <summary>
    /// The minimum time between logins the server announced (CAPA <c>LOGIN-DELAY n</c>, RFC 2449), or
    /// null when it did not say (or the run failed before it could).
    /// </summary>
    public TimeSpan? LoginDelay { get; internal set; }

    /// <summary>Whether trying again later, unchanged, may succeed (the failure is the server's or the network's for now, or a lock).</summary>
    public bool IsTemporary => Failure is FetchFailure.Connection or FetchFailure.Timeout or FetchFailure.InUse or FetchFailure.LoginDelay
        or FetchFailure.ServerTemporary or FetchFailure.AccountLocked or FetchFailure.DestinationBusy or FetchFailure.RunTimeExceeded or FetchFailure.Rejected or FetchFailure.LeaseLost;

    /// <summary>For <see cref="FetchFailure.IdentityChanged"/>: what was found (the message without "nothing was fetched").</summary>
    public string? Finding { get; internal init; }

    /// <summary>For <see cref="FetchFailure.IdentityChanged"/>: whether the mailbox could be checked, so that <see cref="UidlResetAction.MarkSeen"/> is a sound choice too.</summary>
    public bool MarkSeenPossible { get; internal init; }

    /// <summary>True when the engine wrapped another exception as it was (its message is that exception's); false when the engine wrote the message.</summary>
    internal bool Wrapped { get; private init; }

    /// <summary>The exception as a <see cref="FetchException"/>: itself, or wrapped with its classification.</summary>
    internal static FetchException From(Exception error) =>
        error as FetchException ?? new FetchException(Classify(error), error.Message, error) { Wrapped = true };

    /// <summary>The failure kind of any exception a run can meet: the library's, the BCL's, or one wrapping those.</summary>
    internal static FetchFailure Classify(Exception error) => error switch
    {
        FetchException fetch => fetch.Failure,
        OperationCanceledException => FetchFailure.Canceled,
        Pop3AuthenticationException => FetchFailure.Authentication,
        // Only a new sign-in helps, or the client's registration is wrong; anything else is the network's or the server's.
        OAuth.OAuth2Exception oauth => oauth.SignInRequired ? FetchFailure.Authentication
            : oauth.Error is "invalid_client" or "unauthorized_client" or "invalid_scope" ? FetchFailure.Configuration
            : FetchFailure.Connection,
        Pop3CommandException command => command.ResponseCode switch
        {
            Pop3ResponseCode.InUse => FetchFailure.InUse,
            Pop3ResponseCode.LoginDelay => FetchFailure.LoginDelay,
            Pop3ResponseCode.SysTemp => FetchFailure.ServerTemporary,
            Pop3ResponseCode.SysPerm => FetchFailure.ServerPermanent,
            Pop3ResponseCode.Auth => FetchFailure.Authentication,
            _ when command.Command.ToUpperInvariant() is "USER" or "PASS" or "APOP" or "AUTH" => FetchFailure.Authentication,
            _ => FetchFailure.ServerRefused,
        },
        Pop3ProtocolException => FetchFailure.Protocol,
        AuthenticationException => FetchFailure.Tls,
        SocketException => FetchFailure.Connection,
        TimeoutException => FetchFailure.Timeout,
        IOException { InnerException: SocketException } => FetchFailure.Connection,
        Microsoft.Data.Sqlite.SqliteException => FetchFailure.State,
        _ when error.InnerException is { } inner => Classify(inner),
        IOException or UnauthorizedAccessException => FetchFailure.Destination,
        _ => FetchFailure.Unexpected,
    };
}
