using System.CommandLine;
using Poplib.Cli.Connection;
using Poplib.Cli.Fetch.Config;
using Poplib.Fetch;
using Poplib.Fetch.Configuration;
using Poplib.Fetch.PostgreSql;
using Poplib.Fetch.State;

namespace Poplib.Cli.Fetch;

/// <summary>
/// <c>poplib fetch</c>: retrieve new mail into a Maildir, an mbox or a delivery command, for one
/// account given by the usual options or for many from a config file — without ever losing or
/// duplicating a message, even when killed mid-run (see <see cref="AccountFetcher"/>).
/// </summary>
internal static class FetchCommand
{
    public static Command Create(CliConsole console)
    {
        // Its output reports on work that must go on: a closed standard output only silences it.
        console = console.TolerateClosedOutput();
        var connection = new ConnectionOptions();
        var config = new Option<string?>("--config", "-c") { Description = "Fetch the accounts of this JSON config file (its format: docs/fetch.md)" };
        var only = new Option<string[]>("--account") { Description = "With --config: fetch only this account (repeatable)", AllowMultipleArgumentsPerToken = false };
        var maildir = new Option<string?>("--maildir") { Description = "Deliver into this Maildir (created if missing)" };
        var mbox = new Option<string?>("--mbox") { Description = "Append to this mbox file (mboxrd, locked)" };
        var mda = new Option<string?>("--mda") { Description = "Pipe each message to this command (run by /bin/sh; exit status 0 = delivered), e.g. \"procmail\"" };
        var lmtp = new Option<string?>("--lmtp") { Description = "Hand each message to this LMTP server: HOST:PORT, [IPv6]:PORT or unix:/path/to/socket (needs --lmtp-rcpt)" };
        var lmtpRcpt = new Option<string[]>("--lmtp-rcpt") { Description = "With --lmtp: an envelope recipient (RCPT TO); repeat the option for more than one", AllowMultipleArgumentsPerToken = false };
        var keep = new Option<bool>("--keep") { Description = "Leave mail on the server and fetch only messages not fetched before (the default)" };
        var delete = new Option<bool>("--delete") { Description = "Delete each message from the server once it is durably delivered and recorded" };
        var maxSize = new Option<string?>("--max-size") { Description = "Do not download messages larger than this (octets, or 512K, 10M, 1G)" };
        var oversize = new Option<string>("--oversize") { Description = "For messages over --max-size: skip (leave them on the server) or headers (deliver the header only)", DefaultValueFactory = _ => "skip" };
        var limit = new Option<int?>("--limit") { Description = "Fetch at most this many messages per account in this run" };
        var onReset = new Option<string>("--on-uidl-reset")
        {
            Description = "When the server's UIDLs have changed: refuse (fetch nothing, report), dedupe (skip mail already delivered, by Message-ID), mark-seen, or refetch",
            DefaultValueFactory = _ => "refuse",
        };
        var statePath = new Option<string?>("--state")
        {
            Description = "The state: a SQLite file (default: $XDG_STATE_HOME/poplib/fetch.sqlite), or a PostgreSQL database shared by several workers, " +
                "postgres://USER@HOST:PORT/DB (password from PGPASSWORD or ~/.pgpass)",
        };
        var syncAccounts = new Option<bool>("--sync-accounts") { Description = "With --config and a PostgreSQL --state: make the database's accounts those of the config file (add, update, remove), then exit; workers (--daemon without --config) run them" };
        var lease = new Option<string?>("--lease") { Description = "With a PostgreSQL --state: how long a worker's hold on an account lasts unless renewed (it is renewed every third; 2s to 1h; default 1m)" };
        var batch = new Option<int?>("--batch") { Description = "Messages per durable commit group (default 64; 1 syncs every message on its own)" };
        var parallel = new Option<int?>("--parallel") { Description = "Fetch up to this many accounts at once (default 4)" };
        var maxRunTime = new Option<string?>("--max-run-time") { Description = "Stop an account's run after this long, keeping what arrived whole (90s, 30m, 2h; default 30m)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print nothing but errors" };
        var daemon = new Option<bool>("--daemon") { Description = "Keep running: fetch each account every --interval (or its config \"interval\"), back off on failures; SIGHUP or a changed config reloads; SIGTERM stops" };
        var interval = new Option<string?>("--interval") { Description = "With --daemon: fetch each account this often unless its config says otherwise (30s, 5m, 1h; default 5m)" };
        var status = new Option<bool>("--status") { Description = "Print each account's last run, last success, next run and last error as the daemon recorded them (with --json: as JSON)" };

        var command = new Command("fetch", "Download new mail into a Maildir, an mbox, a delivery command or an LMTP server; never loses or duplicates a message")
        {
            config, only, maildir, mbox, mda, lmtp, lmtpRcpt, keep, delete, maxSize, oversize, limit, onReset, statePath, batch, parallel, maxRunTime, quiet,
            daemon, interval, status, syncAccounts, lease,
        };
        connection.AddTo(command);

        command.SetAction(async (result, cancellationToken) =>
        {
            int debugLevel = connection.DebugLevel(result);
            try
            {
                bool json = result.GetValue(connection.Json);
                if (result.GetValue(status))
                    return FetchDaemonOptionsCheck.Status(result, config, only, statePath, json, console, debugLevel);
                TimeSpan? leaseDuration = FleetOptions.Lease(result.GetValue(lease));
                if (leaseDuration is not null && result.GetValue(statePath) is { } given && !PostgreSqlConnectionString.IsUrl(given))
                    throw new CliException(ExitCodes.Usage, LeaseNeedsPostgreSql); // before any password is asked for
                if (result.GetValue(syncAccounts))
                    return FleetOptions.Sync(result, config, statePath, leaseDuration, [daemon, only, maildir, mbox, mda, lmtp, limit, connection.Url, connection.Host], console, debugLevel);
                TimeSpan? every = FetchDaemonOptionsCheck.Daemon(result, daemon, interval, [limit, connection.Json]);
                if (result.GetValue(keep) && result.GetValue(delete))
                    throw new CliException(ExitCodes.Usage, "--keep and --delete exclude each other");
                int? parallelAccounts = result.GetValue(parallel);
                if (parallelAccounts is < 1 or > 64)
                    throw new CliException(ExitCodes.Usage, "--parallel must be between 1 and 64");

                if (FleetOptions.WorkerState(result, daemon, config, statePath) is { } shared)
                {
                    FleetOptions.RefuseForWorker(result, [connection.Url, connection.Host, connection.User, only, maildir, mbox, mda, lmtp, lmtpRcpt, keep, delete, maxSize, limit, batch, maxRunTime, interval]);
                    using StateLocation leased = StateLocation.From(shared, null, leaseDuration);
                    return await FetchDaemonMode.RunWorkerAsync(leased, parallelAccounts ?? 4, result.GetValue(quiet), cancellationToken);
                }

                IReadOnlyList<AccountSettings> accounts;
                string? configState = null;
                int? configParallel = null;
                Func<IReadOnlyList<AccountSettings>>? reread = null;
                if (result.GetValue(config) is { } file)
                {
                    foreach (Option option in new Option[] { connection.Url, connection.Host, connection.User, connection.PasswordEnv, connection.PasswordFile, connection.PasswordCommand, connection.CaFile, connection.TlsFingerprint, maildir, mbox, mda, lmtp, lmtpRcpt })
                    {
                        if (result.GetResult(option) is not null)
                            throw new CliException(ExitCodes.Usage, $"{option.Name} cannot be combined with --config: set it in the config file");
                    }

                    IReadOnlyList<AccountSettings> Read(FetchConfig loaded) =>
                        [.. Select(loaded.Accounts, result.GetValue(only) ?? []).Select(a => a with { Policy = Override(a.Policy, result, keep, delete, maxSize, oversize, limit, onReset, batch, maxRunTime) })];
                    FetchConfig loaded = FetchConfig.Load(file, console, debugLevel);
                    configState = loaded.StatePath;
                    configParallel = loaded.Parallel;
                    accounts = Read(loaded);
                    reread = () => Read(FetchConfig.Load(file, console, debugLevel));
                }
                else
                {
                    if (result.GetValue(only) is { Length: > 0 })
                        throw new CliException(ExitCodes.Usage, "--account selects accounts of a --config file");
                    ConnectionSettings settings = connection.Read(result);
                    if (settings.User is null)
                        throw new CliException(ExitCodes.Usage, "no user: give --user NAME or a URL such as pops://alice@host");
                    FetchDestination destination = ReadDestination(result.GetValue(maildir), result.GetValue(mbox), result.GetValue(mda), result.GetValue(lmtp), result.GetValue(lmtpRcpt) ?? []);
                    FetchPolicy policy = Override(new FetchPolicy(),
                        result, keep, delete, maxSize, oversize, limit, onReset, batch, maxRunTime);
                    if (settings.UsesAccessToken && !settings.HasPasswordOption)
                    {
                        // --auth xoauth2 and no --password-*: the sign-in 'poplib oauth login' stored for user@host.
                        accounts = [new AccountSettings($"{settings.User}@{settings.Host}", settings, () => "", destination, policy)
                        {
                            SignInKey = OAuth.TokenStores.KeyFor(settings.User, settings.Host),
                        }];
                    }
                    else if (settings.UsesAccessToken && settings.PasswordCommand is { } command)
                    {
                        // --auth xoauth2 --password-command: the command runs for every login, not once now.
                        PasswordSource.RequireOne(settings.PasswordEnv, settings.PasswordFile, command);
                        accounts = [new AccountSettings($"{settings.User}@{settings.Host}", settings, () => "", destination, policy)
                        {
                            AccessTokenCommand = new SecretSource.Command(command, new HashSet<string>()),
                        }];
                    }
                    else
                    {
                        // Read the password now, once: a prompt must come before any connection starts.
                        string password = PasswordSource.Read(settings.PasswordEnv, settings.PasswordFile, settings.PasswordCommand, console);
                        accounts = [new AccountSettings($"{settings.User}@{settings.Host}", settings, () => password, destination, policy)];
                    }
                }

                using StateLocation state = StateLocation.From(result.GetValue(statePath), configState, leaseDuration);
                if (leaseDuration is not null && !state.IsPostgreSql)
                    throw new CliException(ExitCodes.Usage, LeaseNeedsPostgreSql);
                if (every is { } daemonInterval)
                    return await FetchDaemonMode.RunAsync(accounts, reread, result.GetValue(config), state, parallelAccounts ?? configParallel ?? 4, daemonInterval, result.GetValue(quiet), console, cancellationToken);
                OutputMode mode = json ? OutputMode.Json : result.GetValue(quiet) ? OutputMode.Quiet : console.IsTerminal ? OutputMode.Live : OutputMode.Lines;
                return await FetchRunner.RunAsync(accounts, state, parallelAccounts ?? configParallel ?? 4, mode, console, cancellationToken);
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, console.Error, debugLevel);
            }
        });
        return command;
    }

    private const string LeaseNeedsPostgreSql = "--lease goes with a PostgreSQL --state (postgres://…): a SQLite state is locked by a file lock, which needs no lease";

    private static IReadOnlyList<AccountSettings> Select(IReadOnlyList<AccountSettings> accounts, string[] names)
    {
        if (names.Length == 0)
            return accounts;
        foreach (string name in names)
        {
            if (!accounts.Any(a => a.Name == name))
                throw new CliException(ExitCodes.Usage, $"no account called \"{name}\" in the config (there are: {string.Join(", ", accounts.Select(a => a.Name))})");
        }

        return [.. accounts.Where(a => names.Contains(a.Name))];
    }

    private static FetchDestination ReadDestination(string? maildir, string? mbox, string? mda, string? lmtp, string[] recipients)
    {
        int given = (maildir is null ? 0 : 1) + (mbox is null ? 0 : 1) + (mda is null ? 0 : 1) + (lmtp is null ? 0 : 1);
        if (recipients.Length > 0 && lmtp is null)
            throw new CliException(ExitCodes.Usage, "--lmtp-rcpt goes with --lmtp HOST:PORT|unix:/path");
        if (given != 1)
            throw new CliException(ExitCodes.Usage, "give one destination: --maildir DIR, --mbox FILE, --mda COMMAND or --lmtp HOST:PORT|unix:/path");
        if (lmtp is not null)
        {
            return FetchDestination.LmtpProblem(lmtp, recipients) is { } wrong
                ? throw new CliException(ExitCodes.Usage, $"--lmtp {(recipients.Length == 0 ? wrong + " (give --lmtp-rcpt ADDRESS)" : wrong)}")
                : FetchDestination.Lmtp(lmtp, recipients);
        }

        foreach ((string option, DestinationKind kind, string? target) in new[] { ("--maildir", DestinationKind.Maildir, maildir), ("--mbox", DestinationKind.Mbox, mbox), ("--mda", DestinationKind.Mda, mda) })
        {
            if (target is not null && FetchDestination.Problem(kind, FetchConfig.ExpandHome(target)) is { } problem)
                throw new CliException(ExitCodes.Usage, $"{option} {problem}");
        }

        return maildir is not null ? FetchDestination.Maildir(FetchConfig.ExpandHome(maildir))
            : mbox is not null ? FetchDestination.Mbox(FetchConfig.ExpandHome(mbox))
            : FetchDestination.Command(mda!);
    }

    /// <summary>The policy with whatever the command line gave explicitly laid over it.</summary>
    private static FetchPolicy Override(FetchPolicy policy, ParseResult result, Option<bool> keep, Option<bool> delete, Option<string?> maxSize, Option<string> oversize,
        Option<int?> limit, Option<string> onReset, Option<int?> batch, Option<string?> maxRunTime)
    {
        if (result.GetValue(delete))
            policy = policy with { Delete = true };
        if (result.GetValue(keep))
            policy = policy with { Delete = false };
        if (result.GetValue(maxSize) is { } size)
            policy = policy with { MaxSize = SizeParser.TryParse(size, out long octets) ? octets : throw new CliException(ExitCodes.Usage, $"--max-size: not a size: {size} (e.g. 1048576, 512K, 10M)") };
        if (result.GetResult(oversize) is { Implicit: false })
            policy = policy with { Oversize = Parse<OversizeAction>(result.GetValue(oversize)!, "--oversize") };
        if (result.GetValue(limit) is { } n)
            policy = policy with { Limit = n >= 1 ? n : throw new CliException(ExitCodes.Usage, "--limit must be at least 1") };
        if (result.GetResult(onReset) is { Implicit: false })
            policy = policy with { OnUidlReset = Parse<UidlResetAction>(result.GetValue(onReset)!, "--on-uidl-reset") };
        if (result.GetValue(maxRunTime) is { } time)
            policy = policy with { MaxRunTime = DurationParser.TryParse(time, out TimeSpan parsed) ? parsed : throw new CliException(ExitCodes.Usage, $"--max-run-time: not a duration: {time} (e.g. 90s, 30m, 2h; at most a week)") };
        if (result.GetValue(batch) is { } b)
            policy = policy with { BatchSize = b is >= 1 and <= 100_000 ? b : throw new CliException(ExitCodes.Usage, "--batch must be between 1 and 100000") };
        return policy;
    }

    private static T Parse<T>(string text, string option)
        where T : struct, Enum =>
        EnumNames.TryParse(text, out T value) ? value : throw new CliException(ExitCodes.Usage, $"{option} must be one of {string.Join(", ", EnumNames.All<T>())}, not \"{text}\"");
}
