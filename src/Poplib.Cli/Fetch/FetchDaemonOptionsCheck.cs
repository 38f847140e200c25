using System.CommandLine;
using Poplib.Cli.Fetch.Config;
using Poplib.Fetch.Configuration;
using Poplib.Fetch.State;

namespace Poplib.Cli.Fetch;

/// <summary>The checks of <c>--daemon</c>, <c>--interval</c> and <c>--status</c>, kept out of <see cref="FetchCommand"/>.</summary>
internal static class FetchDaemonOptionsCheck
{
    /// <summary>The default <c>--interval</c>.</summary>
    internal static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(5);

    /// <summary>
    /// With <c>--daemon</c>: its interval (<c>--interval</c> or 5 minutes), after refusing what cannot go with it. Without:
    /// null, after refusing <c>--interval</c>.
    /// </summary>
    public static TimeSpan? Daemon(ParseResult result, Option<bool> daemon, Option<string?> interval, Option[] incompatible)
    {
        string? every = result.GetValue(interval);
        if (!result.GetValue(daemon))
        {
            return every is null ? null : throw new CliException(ExitCodes.Usage, "--interval needs --daemon");
        }

        foreach (Option option in incompatible)
        {
            if (result.GetResult(option) is { Implicit: false })
            {
                throw new CliException(ExitCodes.Usage, option.Name switch
                {
                    "--limit" => "--limit cannot be combined with --daemon: a daemon fetches everything, run after run (set \"limit\" per run in the config if you must)",
                    "--json" => "--json cannot be combined with --daemon: a daemon logs one line per run; see 'poplib fetch --status --json'",
                    _ => $"{option.Name} cannot be combined with --daemon",
                });
            }
        }

        if (every is null)
            return DefaultInterval;
        return DurationParser.TryParse(every, out TimeSpan parsed) ? parsed
            : throw new CliException(ExitCodes.Usage, $"--interval: not a duration: {every} (e.g. 30s, 5m, 1h; at most a week)");
    }

    /// <summary><c>--status</c>: the state from <c>--state</c>, the config's <c>state</c> or the default; the config's accounts if one is given.</summary>
    public static int Status(ParseResult result, Option<string?> config, Option<string[]> only, Option<string?> statePath, bool json, CliConsole console, int debugLevel)
    {
        IReadOnlyList<string>? names = null;
        string? configState = null;
        if (result.GetValue(config) is { } file)
        {
            FetchConfig loaded = FetchConfig.Load(file, console, debugLevel);
            configState = loaded.StatePath;
            names = [.. loaded.Accounts.Select(a => a.Name)];
        }

        if (result.GetValue(only) is { Length: > 0 } selected)
        {
            if (names is null)
                throw new CliException(ExitCodes.Usage, "--account selects accounts of a --config file");
            names = [.. names.Where(selected.Contains)];
        }

        using StateLocation state = StateLocation.From(result.GetValue(statePath), configState);
        return FetchStatusReport.Print(state, names, json, console);
    }
}
