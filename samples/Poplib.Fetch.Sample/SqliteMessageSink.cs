using Microsoft.Data.Sqlite;
using Poplib.Fetch;

namespace Poplib.Fetch.Sample;

/// <summary>
/// An idempotent sink: each message becomes one row of the <c>mail</c> table, keyed by (account, UIDL). The engine calls a
/// sink again for a message only if it did not return successfully — and a process can die after the row is committed but
/// before the engine records it — so the insert is <c>INSERT … ON CONFLICT DO NOTHING</c>: a second call for the same
/// message changes nothing. At-least-once into the sink plus an idempotent sink is exactly once in the table.
/// </summary>
public sealed class SqliteMessageSink : IMessageSink
{
    private readonly string _connectionString;

    /// <summary>Opens (creating if missing) the database at <paramref name="path"/> and its <c>mail</c> table.</summary>
    /// <param name="path">The database file.</param>
    public SqliteMessageSink(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString();
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using SqliteCommand create = connection.CreateCommand();
        create.CommandText = """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS mail(
                account    TEXT NOT NULL,
                uidl       TEXT NOT NULL,
                message_id TEXT,
                size       INTEGER NOT NULL,
                content    BLOB NOT NULL,
                received   TEXT NOT NULL,
                UNIQUE(account, uidl));
            """;
        create.ExecuteNonQuery();
    }

    /// <summary>Stores the message; a message already stored (same account and UIDL) is left as it is.</summary>
    /// <inheritdoc/>
    public async ValueTask AcceptAsync(FetchedMessage message, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(content);
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);

        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO mail(account, uidl, message_id, size, content, received)
            VALUES($account, $uidl, $messageId, $size, $content, $received)
            ON CONFLICT(account, uidl) DO NOTHING
            """;
        insert.Parameters.AddWithValue("$account", message.Account.ToString());
        insert.Parameters.AddWithValue("$uidl", message.Key.ToString());
        insert.Parameters.AddWithValue("$messageId", (object?)message.MessageId ?? DBNull.Value);
        insert.Parameters.AddWithValue("$size", message.Size);
        insert.Parameters.AddWithValue("$content", buffer.ToArray());
        insert.Parameters.AddWithValue("$received", DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        // Committed when this returns (autocommit): only then does the engine record the message as delivered.
        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
