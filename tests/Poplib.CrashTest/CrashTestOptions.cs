using System.Globalization;

namespace Poplib.CrashTest;

internal enum DeliveryMode
{
    Maildir,
    Mbox,
    Lmtp,
}

internal enum FetchPolicy
{
    Keep,
    Delete,
}

/// <summary>Who the fleet's workers are: <c>poplib fetch --daemon</c> processes, or processes embedding the library with a table sink.</summary>
internal enum FleetFlavour
{
    Cli,
    Library,
}

/// <summary>The command line of the crash test.</summary>
internal sealed class CrashTestOptions
{
    public const string Usage = """
        usage: Poplib.CrashTest [--seed N] [--kills K] [--messages M] [--mode maildir|mbox|lmtp]
                                [--policy keep|delete] [--cli PATH] [--timeout SECONDS] [--daemon] [--keep-work] [--verbose]
               Poplib.CrashTest --fleet cli|library [--seed N] [--kills K] [--messages M] [--accounts A] [--workers W]
                                [--freezes F] [--db-restarts R] [--cli PATH] [--keep-work] [--verbose]

          --seed N        the seed of everything random (messages, delays, batch sizes); printed first; default random
          --kills K       the least number of SIGKILLs of a running `poplib fetch` (default 50)
          --messages M    messages on the server at the start; more arrive between runs (default 300)
          --mode          maildir (default), mbox, or lmtp (--lmtp into a private Dovecot LMTP server,
                          scripts/dovecot.sh; duplicates inside the documented LMTP window are
                          counted, not failures: at most one per killed run, from that run)
          --policy        keep (default) or delete the fetched messages on the server
          --cli PATH      Poplib.Cli.dll (run with `dotnet`) or an executable taking the same arguments;
                          default src/Poplib.Cli/bin/<this build's configuration>/net10.0/Poplib.Cli.dll
          --timeout S     the hard limit on one run of the child (default 60)
          --daemon        run `poplib fetch --daemon --interval 1s` and SIGKILL it mid-cycle (after 0-2 whole
                          cycles), then let it finish and stop it with SIGTERM (it must exit 0)
          --keep-work     keep the working directory even when the test passes
          --verbose       one line per run (with --fleet: per kill, freeze and restart)

          --fleet         W workers (default 4) share A accounts (default 100, half keep, half delete; M initial
                          messages over all, default 300) through a private PostgreSQL (scripts/postgres.sh):
                          `cli` runs `poplib fetch --daemon --state postgres://… --lease 3s` into a Maildir per
                          account, plus 3 accounts on a private Dovecot (scripts/dovecot.sh); `library` runs this
                          program's --fleet-worker children (PostgreSqlFetchWorker, a sink into a table with a
                          unique key). K SIGKILLs of random workers (each restarted), R database restarts
                          (postgres.sh pause/resume, default 2), F freezes (SIGSTOP past the lease; default 5),
                          new mail throughout; then SIGTERM, a drain, and the verdict per account
          --accounts A, --workers W, --freezes F, --db-restarts R: see --fleet
        """;

    public int Seed { get; private set; } = Random.Shared.Next();

    public int Kills { get; private set; } = 50;

    public int Messages { get; private set; } = 300;

    public DeliveryMode Mode { get; private set; } = DeliveryMode.Maildir;

    public FetchPolicy Policy { get; private set; } = FetchPolicy.Keep;

    public string? Cli { get; private set; }

    public TimeSpan ChildTimeout { get; private set; } = TimeSpan.FromSeconds(60);

    public bool KeepWork { get; private set; }

    public bool Daemon { get; private set; }

    public bool Verbose { get; private set; }

    /// <summary>With --fleet: who the workers are; null: the single-process crash test.</summary>
    public FleetFlavour? Fleet { get; private set; }

    public int Accounts { get; private set; } = 100;

    public int Workers { get; private set; } = 4;

    public int Freezes { get; private set; } = 5;

    public int DatabaseRestarts { get; private set; } = 2;

    public string ModeName => Mode.ToString().ToLowerInvariant() + (Daemon ? "-daemon" : "");

    public string PolicyName => Policy == FetchPolicy.Keep ? "keep" : "delete";

    /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> with the reason on a usage error.</summary>
    public static CrashTestOptions Parse(IReadOnlyList<string> args)
    {
        var options = new CrashTestOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            switch (name)
            {
                case "--seed":
                    options.Seed = ParseInt(name, Value(args, ref i), 0);
                    break;
                case "--kills":
                    options.Kills = ParseInt(name, Value(args, ref i), 0);
                    break;
                case "--messages":
                    options.Messages = ParseInt(name, Value(args, ref i), 1);
                    break;
                case "--mode":
                    options.Mode = Value(args, ref i) switch
                    {
                        "maildir" => DeliveryMode.Maildir,
                        "mbox" => DeliveryMode.Mbox,
                        "lmtp" => DeliveryMode.Lmtp,
                        var other => throw new ArgumentException($"--mode must be maildir, mbox or lmtp, not '{other}'"),
                    };
                    break;
                case "--policy":
                    options.Policy = Value(args, ref i) switch
                    {
                        "keep" => FetchPolicy.Keep,
                        "delete" => FetchPolicy.Delete,
                        var other => throw new ArgumentException($"--policy must be keep or delete, not '{other}'"),
                    };
                    break;
                case "--cli":
                    options.Cli = Path.GetFullPath(Value(args, ref i));
                    break;
                case "--timeout":
                    options.ChildTimeout = TimeSpan.FromSeconds(ParseInt(name, Value(args, ref i), 1));
                    break;
                case "--daemon":
                    options.Daemon = true;
                    break;
                case "--fleet":
                    options.Fleet = Value(args, ref i) switch
                    {
                        "cli" => FleetFlavour.Cli,
                        "library" => FleetFlavour.Library,
                        var other => throw new ArgumentException($"--fleet must be cli or library, not '{other}'"),
                    };
                    break;
                case "--accounts":
                    options.Accounts = ParseInt(name, Value(args, ref i), 4);
                    break;
                case "--workers":
                    options.Workers = ParseInt(name, Value(args, ref i), 2);
                    break;
                case "--freezes":
                    options.Freezes = ParseInt(name, Value(args, ref i), 0);
                    break;
                case "--db-restarts":
                    options.DatabaseRestarts = ParseInt(name, Value(args, ref i), 0);
                    break;
                case "--keep-work":
                    options.KeepWork = true;
                    break;
                case "--verbose" or "-v":
                    options.Verbose = true;
                    break;
                default:
                    throw new ArgumentException($"unknown argument '{name}'");
            }
        }

        return options;
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        if (i + 1 >= args.Count)
            throw new ArgumentException($"{args[i]} needs a value");
        return args[++i];
    }

    private static int ParseInt(string name, string value, int minimum)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int result) || result < minimum)
            throw new ArgumentException($"{name} must be an integer ≥ {minimum}, not '{value}'");
        return result;
    }
}
