using System.Diagnostics;
using Npgsql;
using Poplib.Fetch.Configuration;
using Poplib.Fetch.Delivery;
using Poplib.Fetch.PostgreSql.Leases;
using Poplib.Fetch.State;

namespace Poplib.Fetch.PostgreSql.Accounts;

/// <summary>What <see cref="PostgreSqlFetchAccounts.Sync"/> changed.</summary>
/// <param name="Added">Accounts new to the table.</param>
/// <param name="Updated">Accounts whose settings or interval changed.</param>
/// <param name="Unchanged">Accounts already as given.</param>
/// <param name="Removed">Accounts the table had and the list did not (their message rows stay).</param>
public sealed record FetchAccountSyncResult(int Added, int Updated, int Unchanged, int Removed);

/// <summary>
/// The accounts a fleet of workers shares (the <c>accounts</c> table): each with its definition, interval, whether it is
/// enabled, and when its next run is due. Workers claim due accounts from here; an application or <c>poplib fetch
/// --sync-accounts</c> manages them.
/// </summary>
public sealed class PostgreSqlFetchAccounts
{
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(5);
    private readonly PostgreSqlFetchDatabase _database;

    internal PostgreSqlFetchAccounts(PostgreSqlFetchDatabase database) => _database = database;

    private string S => _database.Schema;

    /// <summary>
    /// Makes the table hold exactly <paramref name="accounts"/> (or, with <paramref name="removeOthers"/> false, adds and
    /// updates only): each is checked as a config file's account is (a mistake: <see cref="FetchException"/> with
    /// <see cref="FetchFailure.Configuration"/> naming it, and nothing is changed), all in one transaction. An account
    /// whose settings changed keeps its schedule; a new one is due at once.
    /// </summary>
    /// <param name="accounts">The accounts.</param>
    /// <param name="removeOthers">Whether accounts not in the list leave the table.</param>
    public FetchAccountSyncResult Sync(IReadOnlyCollection<FetchAccountDefinition> accounts, bool removeOthers = true)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        var rows = accounts.Select(Check).ToList();
        foreach (IGrouping<string, (FetchAccountDefinition Definition, string Mailbox, double Interval)> same in rows.GroupBy(r => r.Definition.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
            throw new FetchException(FetchFailure.Configuration, $"two accounts are called \"{same.Key}\"");
        foreach (IGrouping<string, (FetchAccountDefinition Definition, string Mailbox, double Interval)> same in rows.GroupBy(r => r.Mailbox, StringComparer.Ordinal).Where(g => g.Count() > 1))
            throw new FetchException(FetchFailure.Configuration, $"the accounts {string.Join(" and ", same.Select(r => $"\"{r.Definition.Name}\""))} fetch the same mailbox ({same.Key}); keep one");

        return Guard(() =>
        {
            using NpgsqlConnection connection = _database.Source.OpenConnection();
            using NpgsqlTransaction transaction = connection.BeginTransaction();
            int removed = 0;
            if (removeOthers)
            {
                using var remove = new NpgsqlCommand($"DELETE FROM {S}.accounts WHERE NOT (name = ANY(@names))", connection, transaction);
                remove.Parameters.AddWithValue("names", rows.Select(r => r.Definition.Name).ToArray());
                removed = remove.ExecuteNonQuery();
            }

            int added = 0, updated = 0, unchanged = 0;
            // A mailbox moving from one name to another: the old name goes first, or the unique mailbox would refuse the new.
            using (var moved = new NpgsqlCommand($"DELETE FROM {S}.accounts WHERE mailbox = ANY(@mailboxes) AND NOT (name = ANY(@names))", connection, transaction))
            {
                moved.Parameters.AddWithValue("mailboxes", rows.Select(r => r.Mailbox).ToArray());
                moved.Parameters.AddWithValue("names", rows.Select(r => r.Definition.Name).ToArray());
                removed += moved.ExecuteNonQuery();
            }

            foreach ((FetchAccountDefinition definition, string mailbox, double interval) in rows)
            {
                using var upsert = new NpgsqlCommand($"""
                    INSERT INTO {S}.accounts AS a(name, mailbox, definition, interval_seconds, enabled)
                    VALUES (@name, @mailbox, @definition::jsonb, @interval, @enabled)
                    ON CONFLICT (name) DO UPDATE SET mailbox = EXCLUDED.mailbox, definition = EXCLUDED.definition,
                        interval_seconds = EXCLUDED.interval_seconds, enabled = EXCLUDED.enabled, updated = clock_timestamp()
                        WHERE (a.mailbox, a.definition, a.interval_seconds, a.enabled) IS DISTINCT FROM
                              (EXCLUDED.mailbox, EXCLUDED.definition, EXCLUDED.interval_seconds, EXCLUDED.enabled)
                    RETURNING (xmax = 0)
                    """, connection, transaction);
                upsert.Parameters.AddWithValue("name", definition.Name);
                upsert.Parameters.AddWithValue("mailbox", mailbox);
                upsert.Parameters.AddWithValue("definition", Stored(definition).ToJson());
                upsert.Parameters.AddWithValue("interval", interval);
                upsert.Parameters.AddWithValue("enabled", definition.Settings.Enabled != false);
                switch (upsert.ExecuteScalar())
                {
                    case true:
                        added++;
                        break;
                    case false:
                        updated++;
                        break;
                    default:
                        unchanged++;
                        break;
                }
            }

            transaction.Commit();
            return new FetchAccountSyncResult(added, updated, unchanged, removed);
        }, "store the accounts in");
    }

    /// <summary>Adds an account or replaces its settings (see <see cref="Sync"/>).</summary>
    /// <param name="account">The account.</param>
    public void Upsert(FetchAccountDefinition account) => Sync([account], removeOthers: false);

    /// <summary>Removes the account named <paramref name="name"/> from the table (its message rows stay); false if there was none.</summary>
    /// <param name="name">The account's name.</param>
    public bool Remove(string name) => Guard(() =>
    {
        using NpgsqlConnection connection = _database.Source.OpenConnection();
        using var command = new NpgsqlCommand($"DELETE FROM {S}.accounts WHERE name = @name", connection);
        command.Parameters.AddWithValue("name", name);
        return command.ExecuteNonQuery() == 1;
    }, "remove the account from");

    /// <summary>The accounts' definitions, by name.</summary>
    public IReadOnlyList<FetchAccountDefinition> List() => Guard(() =>
    {
        using NpgsqlConnection connection = _database.Source.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT name, definition::text FROM {S}.accounts ORDER BY name", connection);
        using NpgsqlDataReader reader = command.ExecuteReader();
        var list = new List<FetchAccountDefinition>();
        while (reader.Read())
            list.Add(FetchAccountDefinition.FromJson(reader.GetString(0), reader.GetString(1)));
        return list;
    }, "read the accounts from");

    /// <summary>
    /// Every account's status: its last run, last success, last error, next run, and the worker holding its lease now (with
    /// the lease's expiry) or the one that ran it last. For <c>poplib fetch --status</c> and dashboards.
    /// </summary>
    public IReadOnlyList<StoredAccountStatus> GetStatus() => Guard(() =>
    {
        using NpgsqlConnection connection = _database.Source.OpenConnection();
        return AccountStatusSql.Load(connection, S);
    }, "read the accounts' status from");

    /// <summary>
    /// Claims up to <paramref name="count"/> due accounts for this worker, most overdue first, in one statement: rows locked
    /// with SKIP LOCKED so that workers claiming at once never take the same account, and for each a lease with a new
    /// fencing token — only where nobody holds a current one.
    /// </summary>
    internal List<AccountClaim> Claim(int count, NpgsqlConnection connection)
    {
        long started = Stopwatch.GetTimestamp();
        using var command = new NpgsqlCommand($"""
            WITH due AS (
                SELECT a.name, a.mailbox, a.definition, a.interval_seconds
                FROM {S}.accounts a
                WHERE a.enabled AND a.next_run <= clock_timestamp()
                  AND NOT EXISTS (SELECT 1 FROM {S}.leases l WHERE l.account = a.mailbox AND l.expires > clock_timestamp())
                ORDER BY a.next_run
                LIMIT @count
                FOR UPDATE OF a SKIP LOCKED),
            taken AS (
                INSERT INTO {S}.leases AS l(account, owner, token, acquired, expires)
                SELECT mailbox, @owner, nextval('{S}.lease_tokens'), clock_timestamp(), clock_timestamp() + @duration FROM due
                ON CONFLICT (account) DO UPDATE SET owner = EXCLUDED.owner, token = EXCLUDED.token, acquired = EXCLUDED.acquired, expires = EXCLUDED.expires
                    WHERE l.expires <= clock_timestamp()
                RETURNING account, token)
            SELECT d.name, d.mailbox, d.definition::text, d.interval_seconds, t.token,
                   coalesce(st.consecutive_failures, 0), coalesce(st.runs, 0), st.last_success
            FROM taken t JOIN due d ON d.mailbox = t.account
            LEFT JOIN {S}.account_status st ON st.name = d.name
            """, connection);
        command.Parameters.AddWithValue("count", count);
        command.Parameters.AddWithValue("owner", _database.Options.Owner);
        command.Parameters.AddWithValue("duration", _database.Options.LeaseDuration);
        using NpgsqlDataReader reader = command.ExecuteReader();
        var claims = new List<AccountClaim>();
        while (reader.Read())
        {
            string mailbox = reader.GetString(1);
            claims.Add(new AccountClaim(reader.GetString(0), mailbox, reader.GetString(2), TimeSpan.FromSeconds(reader.GetDouble(3)),
                PostgreSqlLease.Claimed(_database, mailbox, reader.GetInt64(4), started), reader.GetInt32(5), reader.GetInt64(6),
                reader.IsDBNull(7) ? null : new DateTimeOffset(reader.GetDateTime(7), TimeSpan.Zero)));
        }

        return claims;
    }

    /// <summary>
    /// Ends a claim in one round trip: the account's next run and status recorded, the lease released — all only while the
    /// lease is still this worker's (a worker that lost it must not reschedule an account another worker is running).
    /// </summary>
    internal void Finish(AccountClaim claim, StoredAccountStatus status, TimeSpan delay, NpgsqlConnection connection)
    {
        using var batch = new NpgsqlBatch(connection);
        var fence = new NpgsqlBatchCommand($"SELECT {S}.fence(@account, @token)");
        fence.Parameters.AddWithValue("account", claim.Mailbox);
        fence.Parameters.AddWithValue("token", claim.Lease.Token);
        var schedule = new NpgsqlBatchCommand($"UPDATE {S}.accounts SET next_run = clock_timestamp() + @delay WHERE name = @name");
        schedule.Parameters.AddWithValue("delay", delay);
        schedule.Parameters.AddWithValue("name", claim.Name);
        var record = new NpgsqlBatchCommand(AccountStatusSql.Upsert(S));
        AccountStatusSql.Bind(record.Parameters, status, _database.Options.Owner);
        var release = new NpgsqlBatchCommand($"DELETE FROM {S}.leases WHERE account = @account AND token = @token");
        release.Parameters.AddWithValue("account", claim.Mailbox);
        release.Parameters.AddWithValue("token", claim.Lease.Token);
        batch.BatchCommands.Add(fence);
        batch.BatchCommands.Add(schedule);
        batch.BatchCommands.Add(record);
        batch.BatchCommands.Add(release);
        batch.ExecuteNonQuery();
    }

    /// <summary>Every environment variable any stored account reads its password from: no delivery command may see them.</summary>
    internal List<string> SecretVariables(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand($"SELECT DISTINCT definition->'password'->>'env' FROM {S}.accounts WHERE definition->'password'->>'env' IS NOT NULL", connection);
        using NpgsqlDataReader reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
            names.Add(reader.GetString(0));
        return names;
    }

    /// <summary>Checks an account as a config file's account is checked, without reading its password; returns its mailbox key and interval.</summary>
    private static (FetchAccountDefinition Definition, string Mailbox, double Interval) Check(FetchAccountDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (string.IsNullOrWhiteSpace(definition.Name))
            throw new FetchException(FetchFailure.Configuration, "an account has no name");
        FetchAccountOptions settings = Stored(definition).Settings;
        FetchAccount account = new FetchConfigurationOptions { Accounts = [settings] }
            .ToAccounts(password: _ => _ => ValueTask.FromResult(""), destination: FetchDestination.Sink(NoSink.Instance))[0];
        return (definition, account.Key.ToString(), (account.Interval ?? DefaultInterval).TotalSeconds);
    }

    /// <summary>The definition as stored: its name in the settings, "enabled" in its own column.</summary>
    private static FetchAccountDefinition Stored(FetchAccountDefinition definition)
    {
        FetchAccountOptions settings = FetchAccountDefinition.FromJson(definition.Name, definition.ToJson()).Settings;
        settings.Name = definition.Name;
        settings.Enabled = null;
        return definition with { Settings = settings };
    }

    private T Guard<T>(Func<T> operation, string doing)
    {
        try
        {
            return operation();
        }
        catch (Exception e) when (_database.Translate(e, doing + " the database") is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>Stands for the application's sink while an account without a destination of its own is checked.</summary>
    private sealed class NoSink : IMessageSink
    {
        public static readonly NoSink Instance = new();

        public ValueTask AcceptAsync(FetchedMessage message, Stream content, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("Only for checking an account's settings.");
    }
}

/// <summary>An account a worker claimed: its definition, schedule and the lease it holds it by.</summary>
internal sealed record AccountClaim(string Name, string Mailbox, string Definition, TimeSpan Interval, PostgreSqlLease Lease, int ConsecutiveFailures, long Runs,
    DateTimeOffset? LastSuccess);
