using System.Globalization;
using Poplib.Cli.Output;
using Poplib.Fetch.State;

namespace Poplib.Cli.Fetch;

/// <summary>
/// <c>poplib fetch --status</c>: each account's last run, last success, next run, last error and consecutive failures, as
/// the daemon last recorded them in the state store. Reads while a daemon runs in another process (SQLite WAL readers).
/// </summary>
internal static class FetchStatusReport
{
    /// <param name="state">The state: a SQLite file, or a PostgreSQL database (whose rows also say which worker holds each account).</param>
    /// <param name="accounts">The accounts of the config, in its order (those never run are shown too), or null for every recorded account.</param>
    /// <param name="json">One JSON document instead of a table.</param>
    /// <param name="console">The console.</param>
    public static int Print(StateLocation state, IReadOnlyList<string>? accounts, bool json, CliConsole console)
    {
        IReadOnlyList<StoredAccountStatus> recorded = state.LoadStatuses();
        string statePath = state.Display;

        var byName = recorded.ToDictionary(s => s.Name, StringComparer.Ordinal);
        List<(string Name, StoredAccountStatus? Status)> rows = accounts is null
            ? [.. recorded.Select(s => (s.Name, (StoredAccountStatus?)s))]
            : [.. accounts.Select(name => (name, byName.GetValueOrDefault(name)))];

        if (json)
        {
            JsonOutput.Write(console.Out, writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("state", statePath);
                writer.WriteStartArray("accounts");
                foreach ((string name, StoredAccountStatus? s) in rows)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", name);
                    Time(writer, "lastRunStarted", s?.LastRunStarted);
                    Time(writer, "lastRunEnded", s?.LastRunEnded);
                    Time(writer, "lastSuccess", s?.LastSuccess);
                    Time(writer, "nextRun", s?.NextRun);
                    Text(writer, "lastOutcome", s?.LastOutcome);
                    Text(writer, "lastError", s?.LastError);
                    Time(writer, "lastErrorAt", s?.LastErrorAt);
                    writer.WriteNumber("consecutiveFailures", s?.ConsecutiveFailures ?? 0);
                    writer.WriteNumber("runs", s?.Runs ?? 0);
                    if (s is null)
                        writer.WriteNull("intervalSeconds");
                    else
                        writer.WriteNumber("intervalSeconds", s.Interval.TotalSeconds);
                    Time(writer, "updated", s?.Updated);
                    Text(writer, "owner", s?.Owner);
                    Time(writer, "leaseExpires", s?.LeaseExpires);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            });
            return ExitCodes.Ok;
        }

        if (rows.Count == 0)
        {
            console.Out.WriteLine($"No account status recorded in {TerminalText.Safe(statePath)} (poplib fetch --daemon records it after each run).");
            return ExitCodes.Ok;
        }

        // A shared database says who runs each account: the worker holding its lease now (until when), or the last one.
        bool fleet = state.IsPostgreSql;
        var table = fleet
            ? new Table("ACCOUNT", "LAST RUN", "LAST SUCCESS", "NEXT RUN", "FAILURES", "OWNER", "LEASE UNTIL", "LAST ERROR")
            : new Table("ACCOUNT", "LAST RUN", "LAST SUCCESS", "NEXT RUN", "FAILURES", "LAST ERROR");
        foreach ((string name, StoredAccountStatus? s) in rows)
        {
            string error = s is null || s.Runs == 0 && s.LastRunStarted is null ? "never run" : s.ConsecutiveFailures == 0 || s.LastError is null ? "-" : TerminalText.Safe(s.LastError);
            string[] common = [TerminalText.Safe(name), Show(s?.LastRunEnded ?? s?.LastRunStarted), Show(s?.LastSuccess), Show(s?.NextRun),
                (s?.ConsecutiveFailures ?? 0).ToString(CultureInfo.InvariantCulture)];
            if (fleet)
                table.Add([.. common, s?.Owner is { } owner ? TerminalText.Safe(owner) : "-", Show(s?.LeaseExpires), error]);
            else
                table.Add([.. common, error]);
        }

        table.WriteTo(console.Out);
        return ExitCodes.Ok;
    }

    private static string Show(DateTimeOffset? time) =>
        time is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "-";

    private static void Time(System.Text.Json.Utf8JsonWriter writer, string name, DateTimeOffset? time)
    {
        if (time is { } t)
            writer.WriteString(name, t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        else
            writer.WriteNull(name);
    }

    private static void Text(System.Text.Json.Utf8JsonWriter writer, string name, string? text)
    {
        if (text is null)
            writer.WriteNull(name);
        else
            writer.WriteString(name, text);
    }
}
