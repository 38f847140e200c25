using System.Globalization;
using Poplib.Cli.Output;
using Poplib.Fetch;
using Poplib.Fetch.Configuration;

namespace Poplib.Cli.Fetch;

/// <summary>
/// The engine's warnings and failures in the command line's words: the one place that knows which
/// option changes what (the engine speaks of policies, not flags).
/// </summary>
internal static class FetchWording
{
    /// <summary>A warning for the user, safe for a terminal (it quotes the server).</summary>
    public static string Warning(FetchWarning warning) => TerminalText.Safe(warning.Kind switch
    {
        FetchWarningKind.OversizeSkipped => string.Create(CultureInfo.InvariantCulture,
            $"{warning.Count} message(s) over --max-size {warning.MaxSize} octets left on the server"),
        FetchWarningKind.OversizeOnArrival => string.Create(CultureInfo.InvariantCulture,
            $"message {warning.MessageNumber} ({warning.Key}) is larger than --max-size {warning.MaxSize} octets, though the server listed it at {warning.ListedSize}; nothing of it was kept, and it stays on the server"),
        FetchWarningKind.IdentityChanged when warning.Finding is { } finding => finding + warning.Action switch
        {
            UidlResetAction.Refetch => "; fetching all of them (--on-uidl-reset refetch, or a first run)",
            UidlResetAction.MarkSeen => "; recording all of them as seen without fetching (--on-uidl-reset mark-seen)",
            _ => "; fetching them, skipping those whose Message-ID was delivered before (--on-uidl-reset dedupe)",
        },
        _ => warning.Message,
    });

    /// <summary>The exit code of a failure of the engine, and its message for the user (not yet made safe).</summary>
    public static (int Code, string Message) Failure(FetchException failure, FetchPolicy? policy = null) => failure switch
    {
        { Failure: FetchFailure.RunTimeExceeded } when policy is not null => (ExitCodes.TemporaryFailure,
            $"stopped after --max-run-time {DurationParser.Format(policy.MaxRunTime)}: what arrived whole is delivered and recorded; nothing was deleted in this run; the next run goes on from here"),
        { Failure: FetchFailure.IdentityChanged, Finding: { } finding } => (ExitCodes.ServerError, finding + (failure.MarkSeenPossible
            ? ". Nothing was fetched. Re-run with --on-uidl-reset dedupe (fetch, skipping mail already delivered), mark-seen (record all of it as seen) or refetch (fetch all of it again)"
            : ". Nothing was fetched. Re-run with --on-uidl-reset dedupe (fetch, skipping messages whose Message-ID was delivered before) or refetch (fetch all of it)")),
        { Failure: FetchFailure.Protocol, InnerException: null } => (ExitCodes.Protocol, "protocol error: " + failure.Message),
        { Failure: FetchFailure.Canceled } => (ExitCodes.Interrupted, failure.Message),
        _ => (ExitCode(failure.Failure), failure.Message),
    };

    /// <summary>The exit code for a kind of failure (docs/cli.md).</summary>
    public static int ExitCode(FetchFailure failure) => failure switch
    {
        FetchFailure.Connection or FetchFailure.Timeout or FetchFailure.Tls => ExitCodes.Connection,
        FetchFailure.Authentication => ExitCodes.Authentication,
        FetchFailure.InUse or FetchFailure.LoginDelay or FetchFailure.ServerTemporary or FetchFailure.AccountLocked or FetchFailure.LeaseLost
            or FetchFailure.DestinationBusy or FetchFailure.RunTimeExceeded => ExitCodes.TemporaryFailure,
        FetchFailure.ServerPermanent or FetchFailure.ServerRefused or FetchFailure.IdentityChanged => ExitCodes.ServerError,
        FetchFailure.Protocol => ExitCodes.Protocol,
        FetchFailure.Destination or FetchFailure.Rejected or FetchFailure.State => ExitCodes.LocalIo,
        FetchFailure.Configuration => ExitCodes.Config,
        FetchFailure.Canceled => ExitCodes.Interrupted,
        _ => ExitCodes.Internal,
    };
}
