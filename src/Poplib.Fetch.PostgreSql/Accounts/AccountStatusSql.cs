using Npgsql;
using Poplib.Fetch.State;

namespace Poplib.Fetch.PostgreSql.Accounts;

/// <summary>The <c>account_status</c> table: one row per account name, written after each run, read by <c>--status</c>.</summary>
internal static class AccountStatusSql
{
    public static string Upsert(string s) => $"""
        INSERT INTO {s}.account_status(name, last_run_started, last_run_ended, last_success, last_outcome, last_error, last_error_at,
            consecutive_failures, next_run, runs, interval_seconds, last_owner, updated)
        VALUES (@name, @started, @ended, @success, @outcome, @error, @error_at, @failures, @next, @runs, @interval, @owner, clock_timestamp())
        ON CONFLICT (name) DO UPDATE SET last_run_started = EXCLUDED.last_run_started, last_run_ended = EXCLUDED.last_run_ended,
            last_success = EXCLUDED.last_success, last_outcome = EXCLUDED.last_outcome, last_error = EXCLUDED.last_error,
            last_error_at = EXCLUDED.last_error_at, consecutive_failures = EXCLUDED.consecutive_failures, next_run = EXCLUDED.next_run,
            runs = EXCLUDED.runs, interval_seconds = EXCLUDED.interval_seconds, last_owner = EXCLUDED.last_owner, updated = EXCLUDED.updated
        """;

    public static void Bind(NpgsqlParameterCollection parameters, StoredAccountStatus status, string owner)
    {
        parameters.AddWithValue("name", status.Name);
        parameters.AddWithValue("started", Time(status.LastRunStarted));
        parameters.AddWithValue("ended", Time(status.LastRunEnded));
        parameters.AddWithValue("success", Time(status.LastSuccess));
        parameters.AddWithValue("outcome", (object?)status.LastOutcome ?? DBNull.Value);
        parameters.AddWithValue("error", (object?)status.LastError ?? DBNull.Value);
        parameters.AddWithValue("error_at", Time(status.LastErrorAt));
        parameters.AddWithValue("failures", status.ConsecutiveFailures);
        parameters.AddWithValue("next", Time(status.NextRun));
        parameters.AddWithValue("runs", status.Runs);
        parameters.AddWithValue("interval", status.Interval.TotalSeconds);
        parameters.AddWithValue("owner", status.Owner ?? owner);
    }

    /// <summary>
    /// Every account's status by name: the accounts of the shared table (with their next run, the current lease's holder
    /// and expiry) and any other account a process recorded (a daemon with its own accounts).
    /// </summary>
    public static List<StoredAccountStatus> Load(NpgsqlConnection connection, string s)
    {
        using var command = new NpgsqlCommand($"""
            SELECT coalesce(a.name, st.name), st.last_run_started, st.last_run_ended, st.last_success, st.last_outcome, st.last_error,
                   st.last_error_at, coalesce(st.consecutive_failures, 0),
                   CASE WHEN a.name IS NULL THEN st.next_run WHEN a.enabled THEN a.next_run END,
                   coalesce(st.runs, 0), coalesce(a.interval_seconds, st.interval_seconds, 0), coalesce(st.updated, a.updated),
                   CASE WHEN l.expires > clock_timestamp() THEN l.owner ELSE st.last_owner END,
                   CASE WHEN l.expires > clock_timestamp() THEN l.expires END
            FROM {s}.accounts a
            FULL JOIN {s}.account_status st ON st.name = a.name
            LEFT JOIN {s}.leases l ON l.account = a.mailbox
            ORDER BY 1
            """, connection);
        using NpgsqlDataReader reader = command.ExecuteReader();
        var rows = new List<StoredAccountStatus>();
        while (reader.Read())
        {
            DateTimeOffset? At(int i) => reader.IsDBNull(i) ? null : new DateTimeOffset(reader.GetDateTime(i), TimeSpan.Zero);
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            rows.Add(new StoredAccountStatus(reader.GetString(0), At(1), At(2), At(3), Text(4), Text(5), At(6), reader.GetInt32(7), At(8),
                reader.GetInt64(9), TimeSpan.FromSeconds(reader.GetDouble(10)), At(11) ?? DateTimeOffset.MinValue)
            {
                Owner = Text(12),
                LeaseExpires = At(13),
            });
        }

        return rows;
    }

    private static object Time(DateTimeOffset? time) => time is { } t ? t.UtcDateTime : DBNull.Value;
}
