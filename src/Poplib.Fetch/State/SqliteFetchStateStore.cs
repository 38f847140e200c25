using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Poplib.Fetch.State;

/// <summary>
/// The default state store: SQLite, one row per (account, key). Every change is one transaction with
/// <c>synchronous=FULL</c> in WAL mode, so a row that a commit returned for is on disk — the
/// delivery protocol orders its writes around exactly that guarantee. The file and its folder must
/// be private (mode 0600/0700, ours; checked on Unix): whoever can write the state decides what a
/// delete-mode run removes from the server. One instance serves one run at a time; open one per
/// account for parallel runs (they share the file safely).
/// </summary>
public sealed class SqliteFetchStateStore : IFetchStateStore
{
    private const int SchemaVersion = 1;
    private readonly SqliteConnection _connection;
    private readonly JsonRows _json = new();
    // The statements a run executes for every group, compiled once per connection and reused:
    // compiling them anew on each call was 3 % of the CPU of a fetch into a Maildir on tmpfs.
    private readonly Dictionary<string, SqliteCommand> _reused = new(StringComparer.Ordinal);

    private SqliteFetchStateStore(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>The default place: <c>$XDG_STATE_HOME/poplib/fetch.sqlite</c> (~/.local/state when unset).</summary>
    public static string DefaultPath
    {
        get
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
            string root = string.IsNullOrEmpty(xdg)
                ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state")
                : xdg;
            return System.IO.Path.Combine(root, "poplib", "fetch.sqlite");
        }
    }

    /// <summary>Opens (creating it privately if missing) the state database at <paramref name="path"/>; throws <see cref="FetchException"/> (<see cref="FetchFailure.State"/>) if it cannot.</summary>
    public static SqliteFetchStateStore Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        try
        {
            // Whoever can write the state decides what --delete removes from the server: it must be ours alone.
            StrictModes.RequirePrivateDirectory(System.IO.Path.GetDirectoryName(full)!, "the state folder");
            CreatePrivately(full);
            foreach (string file in new[] { full, full + "-wal", full + "-shm", full + "-journal" }.Where(File.Exists))
                StrictModes.RequirePrivateFile(file, "the fetch state");
            var connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = full,
                Mode = SqliteOpenMode.ReadWriteCreate,
                Pooling = false,
                DefaultTimeout = 30,
            }.ToString());
            connection.Open();
            var state = new SqliteFetchStateStore(connection, full);
            state.Initialise();
            return state;
        }
        catch (SqliteException e)
        {
            throw new FetchException(FetchFailure.State, $"cannot open the fetch state {full}: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FetchException(FetchFailure.State, $"cannot create the fetch state {full}: {e.Message}", e);
        }
    }

    /// <summary>Creates the database file with mode 0600 before SQLite does (with the umask's mode); its journals copy that mode.</summary>
    private static void CreatePrivately(string path)
    {
        try
        {
            using FileStream created = PrivateFiles.CreateNew(path, FileAccess.Write);
        }
        catch (IOException) when (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            // It exists (or a link does): checked by the caller.
        }
    }

    private void Initialise()
    {
        // WAL lets parallel accounts (one connection each) write without blocking readers; FULL makes
        // every commit durable before it returns — the property the delivery order depends on.
        Execute("PRAGMA journal_mode=WAL");
        Execute("PRAGMA synchronous=FULL");
        Execute("PRAGMA busy_timeout=30000");
        using SqliteTransaction transaction = _connection.BeginTransaction();
        Execute("""
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS messages(
                account     TEXT NOT NULL,
                key         TEXT NOT NULL,
                status      TEXT NOT NULL,
                size        INTEGER NOT NULL,
                message_id  TEXT,
                digest      TEXT,
                destination TEXT NOT NULL,
                location    TEXT,
                on_server   INTEGER NOT NULL DEFAULT 1,
                fetched_at  TEXT NOT NULL,
                deleted_at  TEXT,
                PRIMARY KEY(account, key)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS messages_by_id ON messages(account, message_id, size);
            CREATE TABLE IF NOT EXISTS account_status(
                name                 TEXT PRIMARY KEY,
                last_run_started     TEXT,
                last_run_ended       TEXT,
                last_success         TEXT,
                last_outcome         TEXT,
                last_error           TEXT,
                last_error_at        TEXT,
                consecutive_failures INTEGER NOT NULL,
                next_run             TEXT,
                runs                 INTEGER NOT NULL,
                interval_seconds     REAL NOT NULL,
                updated              TEXT NOT NULL) WITHOUT ROWID;
            INSERT OR IGNORE INTO meta(key, value) VALUES('schema', '1');
            """, transaction);
        string? version = Scalar("SELECT value FROM meta WHERE key = 'schema'", transaction);
        if (version != SchemaVersion.ToString(CultureInfo.InvariantCulture))
            throw new FetchException(FetchFailure.State, $"the fetch state {Path} has schema {version}; this poplib understands {SchemaVersion}");
        transaction.Commit();
    }

    /// <summary>Every row of <paramref name="account"/>, by key.</summary>
    /// <inheritdoc/>
    public Dictionary<MessageKey, StoredMessage> Load(AccountKey account)
    {
        var rows = new Dictionary<MessageKey, StoredMessage>();
        using SqliteCommand command = Command("SELECT key, status, size, message_id, digest, destination, location, on_server FROM messages WHERE account = $account");
        command.Parameters.AddWithValue("$account", account.ToString());
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            var row = new StoredMessage(
                Key: MessageKey.Parse(reader.GetString(0)),
                Status: Enum.Parse<MessageStatus>(reader.GetString(1)),
                Size: reader.GetInt64(2),
                MessageId: reader.IsDBNull(3) ? null : reader.GetString(3),
                Digest: reader.IsDBNull(4) ? null : reader.GetString(4),
                Destination: reader.GetString(5),
                Location: reader.IsDBNull(6) ? null : reader.GetString(6),
                OnServer: reader.GetInt64(7) != 0);
            rows[row.Key] = row;
        }

        return rows;
    }

    /// <summary>Writes (inserts or replaces) <paramref name="rows"/> in one durable transaction.</summary>
    /// <inheritdoc/>
    public void Save(AccountKey account, IReadOnlyCollection<StoredMessage> rows)
    {
        if (rows.Count == 0)
            return;
        // The group goes in as one JSON array bound once, not a statement a row: binding a row's ten
        // parameters through Microsoft.Data.Sqlite allocates an object per value, about 1.5 KB a
        // message, more than everything else the retriever does for it. jsonb_each hands each row
        // over in SQLite's binary form, so its fields are read without parsing the row's text again.
        using SqliteTransaction transaction = _connection.BeginTransaction();
        SqliteCommand command = Reused("""
            INSERT OR REPLACE INTO messages(account, key, status, size, message_id, digest, destination, location, on_server, fetched_at, deleted_at)
            SELECT $account, r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4, r.value ->> 5, r.value ->> 6, r.value ->> 7,
                   $now, CASE WHEN r.value ->> 1 = 'Deleted' THEN $now END
            FROM jsonb_each(CAST($rows AS TEXT)) AS r
            """, transaction);
        command.Parameters.AddWithValue("$account", account.ToString());
        command.Parameters.AddWithValue("$now", Now());
        command.Parameters.AddWithValue("$rows", _json.Rows(rows));
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>Removes rows (an abandoned first phase), in one durable transaction.</summary>
    /// <inheritdoc/>
    public void Forget(AccountKey account, IEnumerable<MessageKey> keys)
    {
        using SqliteTransaction transaction = _connection.BeginTransaction();
        WithKeys($"DELETE FROM messages WHERE account = $account AND key IN {KeyList}", account, keys, transaction);
        transaction.Commit();
    }

    /// <summary>Records which of the account's known messages the server listed in this session.</summary>
    /// <inheritdoc/>
    public void MarkOnServer(AccountKey account, IReadOnlySet<MessageKey> present)
    {
        // Only rows whose flag changes are written: a mailbox kept on the server lists the same
        // thousands of messages run after run, and rewriting each row every time is all WAL traffic.
        using SqliteTransaction transaction = _connection.BeginTransaction();
        WithKeys($"""
            UPDATE messages SET on_server = 0 WHERE account = $account AND on_server <> 0 AND key NOT IN {KeyList};
            UPDATE messages SET on_server = 1 WHERE account = $account AND on_server = 0 AND key IN {KeyList};
            """, account, present, transaction);
        transaction.Commit();
    }

    /// <summary>Sets <paramref name="status"/> on existing rows, in one durable transaction.</summary>
    /// <inheritdoc/>
    public void SetStatus(AccountKey account, IEnumerable<MessageKey> keys, MessageStatus status)
    {
        using SqliteTransaction transaction = _connection.BeginTransaction();
        WithKeys($"""
            UPDATE messages SET status = $status,
                   deleted_at = CASE WHEN $status = 'Deleted' THEN $now ELSE deleted_at END,
                   on_server = CASE WHEN $status = 'Deleted' THEN 0 ELSE on_server END
            WHERE account = $account AND key IN {KeyList}
            """, account, keys, transaction,
            ("$status", JsonRows.StatusName(status)), ("$now", Now()));
        transaction.Commit();
    }

    /// <summary>The keys bound as <c>$keys</c> (a JSON array), as a set to test <c>key IN</c> — answered from the primary key, one lookup a key.</summary>
    private const string KeyList = "(SELECT value FROM json_each(CAST($keys AS TEXT)))";

    /// <summary>Runs <paramref name="sql"/> once with the keys bound as <c>$keys</c> (see <see cref="KeyList"/>) and the account as <c>$account</c>.</summary>
    private void WithKeys(string sql, AccountKey account, IEnumerable<MessageKey> keys, SqliteTransaction transaction, params (string Name, object Value)[] parameters)
    {
        SqliteCommand command = Reused(sql, transaction);
        command.Parameters.AddWithValue("$account", account.ToString());
        foreach ((string name, object value) in parameters)
            command.Parameters.AddWithValue(name, value);
        command.Parameters.AddWithValue("$keys", _json.Keys(keys));
        command.ExecuteNonQuery();
    }

    private static string Now() => DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture);

    /// <summary>
    /// Whether a message with this Message-ID was delivered whole for the account (the UIDL-change
    /// safety net). Sizes are not compared: a server migration often changes them (line-ending
    /// counting, added headers) while the Message-ID stays.
    /// </summary>
    /// <inheritdoc/>
    public bool HasDelivered(AccountKey account, string messageId)
    {
        using SqliteCommand command = Command("SELECT 1 FROM messages WHERE account = $account AND message_id = $id AND status IN ('Delivered', 'Deleted') LIMIT 1");
        command.Parameters.AddWithValue("$account", account.ToString());
        command.Parameters.AddWithValue("$id", messageId);
        return command.ExecuteScalar() is not null;
    }

    // Keys are "user@host:port"; a user name may itself hold '@', a host name never does: the same
    // user is exactly "$prefix" followed by a host with no '@'.
    private const string SameUser = "substr(account, 1, length($prefix)) = $prefix AND instr(substr(account, length($prefix) + 1), '@') = 0";

    /// <summary>Whether the state knows any other mailbox of this user (on any host or port).</summary>
    /// <inheritdoc/>
    public bool HasOtherKeys(AccountKey account)
    {
        using SqliteCommand command = Command($"SELECT 1 FROM messages WHERE account <> $account AND {SameUser} LIMIT 1");
        command.Parameters.AddWithValue("$account", account.ToString());
        command.Parameters.AddWithValue("$prefix", account.User + "@");
        return command.ExecuteScalar() is not null;
    }

    /// <summary>
    /// Another account key of the same user under which a message with this Message-ID was delivered
    /// (the same mailbox reached under another host name or port), or null.
    /// </summary>
    /// <inheritdoc/>
    public string? DeliveredUnderAnotherKey(AccountKey account, string messageId)
    {
        using SqliteCommand command = Command($"""
            SELECT account FROM messages
            WHERE account <> $account AND {SameUser} AND message_id = $id AND status IN ('Delivered', 'Deleted')
            LIMIT 1
            """);
        command.Parameters.AddWithValue("$account", account.ToString());
        command.Parameters.AddWithValue("$prefix", account.User + "@");
        command.Parameters.AddWithValue("$id", messageId);
        return command.ExecuteScalar() as string;
    }

    /// <summary>Writes the account's row of the <c>account_status</c> table (one transaction, replacing the earlier row).</summary>
    /// <inheritdoc/>
    public void SaveAccountStatus(StoredAccountStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        using SqliteCommand command = Command("""
            INSERT OR REPLACE INTO account_status(name, last_run_started, last_run_ended, last_success, last_outcome, last_error,
                last_error_at, consecutive_failures, next_run, runs, interval_seconds, updated)
            VALUES($name, $started, $ended, $success, $outcome, $error, $errorAt, $failures, $next, $runs, $interval, $updated)
            """);
        command.Parameters.AddWithValue("$name", status.Name);
        command.Parameters.AddWithValue("$started", Time(status.LastRunStarted));
        command.Parameters.AddWithValue("$ended", Time(status.LastRunEnded));
        command.Parameters.AddWithValue("$success", Time(status.LastSuccess));
        command.Parameters.AddWithValue("$outcome", (object?)status.LastOutcome ?? DBNull.Value);
        command.Parameters.AddWithValue("$error", (object?)status.LastError ?? DBNull.Value);
        command.Parameters.AddWithValue("$errorAt", Time(status.LastErrorAt));
        command.Parameters.AddWithValue("$failures", status.ConsecutiveFailures);
        command.Parameters.AddWithValue("$next", Time(status.NextRun));
        command.Parameters.AddWithValue("$runs", status.Runs);
        command.Parameters.AddWithValue("$interval", status.Interval.TotalSeconds);
        command.Parameters.AddWithValue("$updated", Time(status.Updated));
        command.ExecuteNonQuery();
    }

    /// <summary>Every row of the <c>account_status</c> table, by name.</summary>
    /// <inheritdoc/>
    public IReadOnlyList<StoredAccountStatus> LoadAccountStatuses()
    {
        using SqliteCommand command = Command("""
            SELECT name, last_run_started, last_run_ended, last_success, last_outcome, last_error, last_error_at,
                   consecutive_failures, next_run, runs, interval_seconds, updated
            FROM account_status ORDER BY name
            """);
        using SqliteDataReader reader = command.ExecuteReader();
        var rows = new List<StoredAccountStatus>();
        while (reader.Read())
        {
            DateTimeOffset? At(int i) => reader.IsDBNull(i) ? null : DateTimeOffset.Parse(reader.GetString(i), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            rows.Add(new StoredAccountStatus(reader.GetString(0), At(1), At(2), At(3), Text(4), Text(5), At(6), reader.GetInt32(7), At(8),
                reader.GetInt64(9), TimeSpan.FromSeconds(reader.GetDouble(10)), At(11) ?? DateTimeOffset.MinValue));
        }

        return rows;
    }

    private static object Time(DateTimeOffset? time) =>
        time is { } t ? t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture) : DBNull.Value;

    /// <inheritdoc/>
    public IDisposable LockAccount(AccountKey account) => AccountLock.Acquire(Path, account.ToString());

    /// <summary>Closes the database.</summary>
    public void Dispose()
    {
        foreach (SqliteCommand command in _reused.Values)
            command.Dispose();
        _reused.Clear();
        _connection.Dispose();
        _json.Dispose();
    }

    private SqliteCommand Command(string sql, SqliteTransaction? transaction = null)
    {
        SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    /// <summary>A command kept for the connection's life (not to be disposed by the caller), its parameters cleared.</summary>
    private SqliteCommand Reused(string sql, SqliteTransaction transaction)
    {
        if (!_reused.TryGetValue(sql, out SqliteCommand? command))
        {
            command = Command(sql);
            _reused.Add(sql, command);
        }

        command.Transaction = transaction;
        command.Parameters.Clear();
        return command;
    }

    private void Execute(string sql, SqliteTransaction? transaction = null)
    {
        using SqliteCommand command = Command(sql, transaction);
        command.ExecuteNonQuery();
    }

    private string? Scalar(string sql, SqliteTransaction transaction)
    {
        using SqliteCommand command = Command(sql, transaction);
        return command.ExecuteScalar() as string;
    }
}
