using Npgsql;
using NpgsqlTypes;
using Poplib.Fetch.PostgreSql.Accounts;
using Poplib.Fetch.PostgreSql.Leases;
using Poplib.Fetch.State;

namespace Poplib.Fetch.PostgreSql;

/// <summary>
/// One run's view of <see cref="PostgreSqlFetchDatabase"/>: the same rows and rules as <see cref="SqliteFetchStateStore"/>,
/// each write one transaction (one round trip: the fence and the change sent as one batch) that commits only under the
/// run's current lease. Holds one pooled connection while it is open. Not thread-safe (one per run).
/// </summary>
internal sealed class PostgreSqlFetchStateStore : IFetchStateStore
{
    private readonly PostgreSqlFetchDatabase _database;
    private readonly string _s;
    private readonly bool _ownsLease;
    private NpgsqlConnection? _connection;
    private PostgreSqlLease? _lease;

    public PostgreSqlFetchStateStore(PostgreSqlFetchDatabase database, PostgreSqlLease? lease)
    {
        _database = database;
        _s = database.Schema;
        _lease = lease;
        _ownsLease = lease is null;
    }

    /// <summary>Round trips to the database so far (the benchmark's cost per message).</summary>
    public int RoundTrips { get; private set; }

    private NpgsqlConnection Connection
    {
        get
        {
            if (_connection is { State: System.Data.ConnectionState.Open } open)
                return open;
            _connection?.Dispose();
            _connection = _database.Source.OpenConnection();
            return _connection;
        }
    }

    public IDisposable LockAccount(AccountKey account)
    {
        string key = account.ToString();
        if (_lease is { } claimed)
        {
            return claimed.Account == key
                ? new BorrowedLease(claimed)
                : throw new InvalidOperationException($"This store was opened for a worker's claim on {claimed.Account}, not {key}.");
        }

        PostgreSqlLease? lease = Guard(() =>
        {
            RoundTrips++;
            return PostgreSqlLease.TryAcquire(_database, Connection, key);
        }, "lock the account in");
        if (lease is null)
        {
            string holder = Guard(() => Holder(key), "read the lease in") ?? "another worker";
            throw new FetchException(FetchFailure.AccountLocked, $"{holder} is fetching {key}; try again when it has finished");
        }

        _lease = lease;
        return new OwnedLease(this, lease);
    }

    private string? Holder(string account)
    {
        using var command = new NpgsqlCommand($"SELECT owner || ' (lease until ' || to_char(expires AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || ')' FROM {_s}.leases WHERE account = @a", Connection);
        command.Parameters.AddWithValue("a", account);
        return command.ExecuteScalar() as string;
    }

    public Dictionary<MessageKey, StoredMessage> Load(AccountKey account) => Guard(() =>
    {
        RoundTrips++;
        using var command = new NpgsqlCommand($"SELECT key, status, size, message_id, digest, destination, location, on_server FROM {_s}.messages WHERE account = @a", Connection);
        command.Parameters.AddWithValue("a", account.ToString());
        using NpgsqlDataReader reader = command.ExecuteReader();
        var rows = new Dictionary<MessageKey, StoredMessage>();
        while (reader.Read())
        {
            var row = new StoredMessage(MessageKey.Parse(reader.GetString(0)), Enum.Parse<MessageStatus>(reader.GetString(1)), reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetBoolean(7));
            rows[row.Key] = row;
        }

        return rows;
    }, "read");

    public void Save(AccountKey account, IReadOnlyCollection<StoredMessage> rows)
    {
        if (rows.Count == 0)
            return;
        var command = new NpgsqlBatchCommand($"""
            INSERT INTO {_s}.messages(account, key, status, size, message_id, digest, destination, location, on_server, fetched_at, deleted_at, lease_token)
            SELECT @a, r.key, r.status, r.size, r.message_id, r.digest, r.destination, r.location, r.on_server, clock_timestamp(),
                   CASE WHEN r.status = 'Deleted' THEN clock_timestamp() END, @t
            FROM unnest(@keys, @statuses, @sizes, @ids, @digests, @destinations, @locations, @on_server)
                 AS r(key, status, size, message_id, digest, destination, location, on_server)
            ON CONFLICT (account, key) DO UPDATE SET status = EXCLUDED.status, size = EXCLUDED.size, message_id = EXCLUDED.message_id,
                digest = EXCLUDED.digest, destination = EXCLUDED.destination, location = EXCLUDED.location, on_server = EXCLUDED.on_server,
                fetched_at = EXCLUDED.fetched_at, deleted_at = EXCLUDED.deleted_at, lease_token = EXCLUDED.lease_token
            """);
        command.Parameters.AddWithValue("keys", rows.Select(r => r.Key.Value).ToArray());
        command.Parameters.AddWithValue("statuses", rows.Select(r => r.Status.ToString()).ToArray());
        command.Parameters.AddWithValue("sizes", rows.Select(r => r.Size).ToArray());
        command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Select(r => r.MessageId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("digests", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Select(r => r.Digest).ToArray() });
        command.Parameters.AddWithValue("destinations", rows.Select(r => r.Destination).ToArray());
        command.Parameters.Add(new NpgsqlParameter("locations", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Select(r => r.Location).ToArray() });
        command.Parameters.AddWithValue("on_server", rows.Select(r => r.OnServer).ToArray());
        Write(account, command, "record delivered mail in");
    }

    public void Forget(AccountKey account, IEnumerable<MessageKey> keys)
    {
        string[] values = [.. keys.Select(k => k.Value)];
        if (values.Length == 0)
            return;
        var command = new NpgsqlBatchCommand($"DELETE FROM {_s}.messages WHERE account = @a AND key = ANY(@keys)");
        command.Parameters.AddWithValue("keys", values);
        Write(account, command, "forget abandoned deliveries in");
    }

    public void MarkOnServer(AccountKey account, IReadOnlySet<MessageKey> present)
    {
        // A join, not "key = ANY(@keys)": that is a scan of the array per row, quadratic on a large mailbox.
        var command = new NpgsqlBatchCommand($"""
            UPDATE {_s}.messages m SET on_server = x.present
            FROM (SELECT k.key, (p.key IS NOT NULL) AS present
                  FROM {_s}.messages k LEFT JOIN unnest(@keys) AS p(key) ON p.key = k.key
                  WHERE k.account = @a) x
            WHERE m.account = @a AND m.key = x.key AND m.on_server <> x.present
            """);
        command.Parameters.AddWithValue("keys", present.Select(k => k.Value).ToArray());
        Write(account, command, "record what the server listed in");
    }

    public void SetStatus(AccountKey account, IEnumerable<MessageKey> keys, MessageStatus status)
    {
        string[] values = [.. keys.Select(k => k.Value)];
        if (values.Length == 0)
            return;
        var command = new NpgsqlBatchCommand($"""
            UPDATE {_s}.messages SET status = @status, lease_token = @t,
                   deleted_at = CASE WHEN @status = 'Deleted' THEN clock_timestamp() ELSE deleted_at END,
                   on_server = CASE WHEN @status = 'Deleted' THEN false ELSE on_server END
            WHERE account = @a AND key = ANY(@keys)
            """);
        command.Parameters.AddWithValue("status", status.ToString());
        command.Parameters.AddWithValue("keys", values);
        Write(account, command, "record deletions in");
    }

    public bool HasDelivered(AccountKey account, string messageId) => Scalar(
        $"SELECT 1 FROM {_s}.messages WHERE account = @a AND message_id = @id AND status IN ('Delivered', 'Deleted') LIMIT 1",
        ("a", account.ToString()), ("id", messageId)) is not null;

    // Keys are "user@host:port"; a user name may hold '@', a host never does: the same user is the prefix "user@"
    // followed by a host with no '@'. The prefix as a range of the "C"-collated account column, [user@, userA) ('A' follows
    // '@' in byte order), so that the primary key's index finds it without reading other users' rows.
    private const string SameUser = "account >= @prefix AND account < @after AND account <> @a AND strpos(substr(account, length(@prefix) + 1), '@') = 0";

    public bool HasOtherKeys(AccountKey account) => Scalar(HasOtherKeysSql(_s), SameUserParameters(account)) is not null;

    internal static string HasOtherKeysSql(string schema) => $"SELECT 1 FROM {schema}.messages WHERE {SameUser} LIMIT 1";

    public string? DeliveredUnderAnotherKey(AccountKey account, string messageId) => Scalar(
        $"SELECT account FROM {_s}.messages WHERE message_id = @id AND {SameUser} AND status IN ('Delivered', 'Deleted') LIMIT 1",
        [.. SameUserParameters(account), ("id", messageId)]) as string;

    internal static (string Name, object Value)[] SameUserParameters(AccountKey account) =>
        [("a", account.ToString()), ("prefix", account.User + "@"), ("after", account.User + "A")];

    public void SaveAccountStatus(StoredAccountStatus status) => Guard(() =>
    {
        RoundTrips++;
        using var command = new NpgsqlCommand(AccountStatusSql.Upsert(_s), Connection);
        AccountStatusSql.Bind(command.Parameters, status, _database.Options.Owner);
        command.ExecuteNonQuery();
        return true;
    }, "record the account's status in");

    public IReadOnlyList<StoredAccountStatus> LoadAccountStatuses() => Guard(() =>
    {
        RoundTrips++;
        return AccountStatusSql.Load(Connection, _s);
    }, "read the accounts' status from");

    /// <summary>The fence and the change as one batch: one round trip, one implicit transaction, committed before it returns.</summary>
    private void Write(AccountKey account, NpgsqlBatchCommand change, string doing)
    {
        PostgreSqlLease lease = _lease ?? throw new InvalidOperationException("State writes need the account's lease: call LockAccount first.");
        lease.EnsureHeld();
        change.Parameters.AddWithValue("a", account.ToString());
        change.Parameters.AddWithValue("t", lease.Token);
        Guard(() =>
        {
            RoundTrips++;
            using var batch = new NpgsqlBatch(Connection);
            var fence = new NpgsqlBatchCommand($"SELECT {_s}.fence(@account, @token)");
            fence.Parameters.AddWithValue("account", lease.Account);
            fence.Parameters.AddWithValue("token", lease.Token);
            batch.BatchCommands.Add(fence);
            batch.BatchCommands.Add(change);
            batch.ExecuteNonQuery();
            return true;
        }, doing);
    }

    /// <summary>One read: the first column of the first row, or null.</summary>
    private object? Scalar(string sql, params (string Name, object Value)[] parameters) => Guard(() =>
    {
        RoundTrips++;
        using var command = new NpgsqlCommand(sql, Connection);
        foreach ((string name, object value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return command.ExecuteScalar();
    }, "read");

    private T Guard<T>(Func<T> operation, string doing)
    {
        try
        {
            return operation();
        }
        catch (Exception e) when (_database.Translate(e, doing + " the database") is { } translated)
        {
            // A broken connection is not reused; the next call opens another from the pool.
            if (_connection is { State: not System.Data.ConnectionState.Open })
            {
                _connection.Dispose();
                _connection = null;
            }

            throw translated;
        }
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _connection = null;
    }

    /// <summary>The lease this store took itself: released when the run lets go of the lock.</summary>
    private sealed class OwnedLease(PostgreSqlFetchStateStore store, PostgreSqlLease lease) : IFetchLease
    {
        public CancellationToken Lost => lease.Lost;

        public void EnsureHeld() => lease.EnsureHeld();

        public void Dispose()
        {
            lease.Release();
            if (store._ownsLease)
                store._lease = null;
        }
    }

    /// <summary>A worker's lease, lent to the run: the worker releases it once it has recorded the account's next run.</summary>
    private sealed class BorrowedLease(PostgreSqlLease lease) : IFetchLease
    {
        public CancellationToken Lost => lease.Lost;

        public void EnsureHeld() => lease.EnsureHeld();

        public void Dispose()
        {
        }
    }
}
