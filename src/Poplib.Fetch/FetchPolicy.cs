using Poplib.Cli.Connection;

namespace Poplib.Cli.Fetch;

/// <summary>What to do with a message over <see cref="FetchPolicy.MaxSize"/>.</summary>
internal enum OversizeAction
{
    /// <summary>Leave it on the server, untouched, and say so in the summary.</summary>
    Skip,

    /// <summary>Deliver its header only (TOP n 0), marked with X-Poplib-Truncated; never delete it.</summary>
    Headers,
}

/// <summary>What to do when the server's UIDLs have changed under us (a migration, a rebuilt index).</summary>
internal enum UidlResetAction
{
    /// <summary>Fetch nothing, report it, fail the account: a person decides.</summary>
    Refuse,

    /// <summary>Fetch, but skip messages whose Message-ID was delivered before.</summary>
    Dedupe,

    /// <summary>Record everything now on the server as seen, without downloading it.</summary>
    MarkSeen,

    /// <summary>Fetch everything the state does not know, duplicates and all.</summary>
    Refetch,
}

/// <summary>How an account is fetched.</summary>
/// <param name="Delete">DELE what was delivered (after it is durable and recorded); otherwise keep it on the server.</param>
/// <param name="MaxSize">Messages larger than this (LIST octets) get <paramref name="Oversize"/>; null: no limit.</param>
/// <param name="Oversize">What happens to them.</param>
/// <param name="Limit">At most this many messages per run; null: all.</param>
/// <param name="OnUidlReset">What to do when the UIDLs changed.</param>
/// <param name="BatchSize">Messages per durable commit group.</param>
/// <remarks><see cref="MaxSize"/> is enforced on the octets the server actually sends, not only on what LIST says.</remarks>
internal sealed record FetchPolicy(bool Delete, long? MaxSize, OversizeAction Oversize, int? Limit, UidlResetAction OnUidlReset, int BatchSize)
{
    public const int DefaultBatchSize = 64;

    /// <summary>
    /// Long enough for a first fetch of a big mailbox to make real progress (what arrives whole is
    /// kept, and the next run goes on), short enough that a server dribbling bytes cannot hold a
    /// cron job, and its account lock, for hours.
    /// </summary>
    public static readonly TimeSpan DefaultMaxRunTime = TimeSpan.FromMinutes(30);

    /// <summary>How long one account's run may take in all; then it is stopped as if interrupted.</summary>
    public TimeSpan MaxRunTime { get; init; } = DefaultMaxRunTime;
}

/// <summary>The kind of destination and its target (a folder, a file, a command line).</summary>
internal sealed record DestinationSpec(DestinationKind Kind, string Target)
{
    /// <summary>
    /// What is wrong with a destination as given, or null. An empty or blank one is never "nowhere":
    /// <c>/bin/sh -c ""</c> succeeds, so an empty delivery command would report every message
    /// delivered — and --delete would then remove them from the server.
    /// </summary>
    public static string? Problem(DestinationKind kind, string target) => kind switch
    {
        _ when string.IsNullOrWhiteSpace(target) => "is empty: it must name " + (kind == DestinationKind.Mda ? "a delivery command" : kind == DestinationKind.Mbox ? "an mbox file" : "a Maildir folder"),
        DestinationKind.Maildir when File.Exists(target) => $"{target} is a file, not a Maildir folder",
        DestinationKind.Mbox when Directory.Exists(target) || target.EndsWith('/') => $"{target} is a folder, not an mbox file",
        DestinationKind.Mda when target.Trim() is ":" or "true" or "/bin/true" or "/usr/bin/true" or "exit" or "exit 0" => $"\"{target}\" delivers nowhere: it must store the message, and exit 0 only then",
        _ => null,
    };
}

internal enum DestinationKind
{
    Maildir,
    Mbox,
    Mda,
}

/// <summary>One account to fetch: where from, as whom, where to, how.</summary>
/// <param name="Name">What the user calls it (the config's name, or user@host).</param>
/// <param name="Connection">The server and login.</param>
/// <param name="ReadPassword">Produces the password (environment, file, command, inline or prompt).</param>
/// <param name="Destination">Where mail goes.</param>
/// <param name="Policy">Keep or delete, limits.</param>
internal sealed record AccountSettings(string Name, ConnectionSettings Connection, Func<string> ReadPassword, DestinationSpec Destination, FetchPolicy Policy)
{
    /// <summary>The environment variable the password is read from, if any: hidden from every program fetch starts.</summary>
    public string? PasswordVariable { get; init; } = Connection.PasswordEnv;

    /// <summary>
    /// The mailbox's identity in the state: the login and server (host name in lower case), not the
    /// display name, so renaming an account loses nothing. The same mailbox reached under another
    /// name is caught by the first run's Message-ID check (see AccountFetcher).
    /// </summary>
    public string Key => $"{Connection.User}@{Connection.Host.ToLowerInvariant()}:{Connection.Port}";
}
