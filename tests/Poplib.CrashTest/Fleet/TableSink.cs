using System.Security.Cryptography;
using Npgsql;
using Poplib.Fetch;

namespace Poplib.CrashTest.Fleet;

/// <summary>
/// The application's sink of the library flavour: each message into a table whose UNIQUE (account, key) makes a second offer
/// of a stored message a no-op — counted in <see cref="ReoffersTable"/>, in the same statement, so the harness can report how
/// many re-offers the key absorbed. The content and its SHA-256 are stored for the verdict.
/// </summary>
internal sealed class TableSink(NpgsqlDataSource source) : IMessageSink
{
    public const string Table = "public.fleet_sink";

    public const string ReoffersTable = "public.fleet_sink_reoffers";

    /// <summary>Creates both tables (run once, by the harness, as the database's owner).</summary>
    public const string Schema = $"""
        CREATE TABLE {Table} (
            account text NOT NULL,
            key     text NOT NULL,
            digest  text NOT NULL,
            content bytea NOT NULL,
            stored  timestamptz NOT NULL DEFAULT clock_timestamp(),
            UNIQUE (account, key));
        CREATE TABLE {ReoffersTable} (
            account text NOT NULL,
            key     text NOT NULL,
            at      timestamptz NOT NULL DEFAULT clock_timestamp());
        """;

    public async ValueTask AcceptAsync(FetchedMessage message, Stream content, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        byte[] bytes = buffer.ToArray();
        await using NpgsqlConnection connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            WITH stored AS (
                INSERT INTO {Table}(account, key, digest, content) VALUES (@account, @key, @digest, @content)
                ON CONFLICT (account, key) DO NOTHING RETURNING 1)
            INSERT INTO {ReoffersTable}(account, key) SELECT @account, @key WHERE NOT EXISTS (SELECT 1 FROM stored)
            """, connection);
        command.Parameters.AddWithValue("account", message.AccountName);
        command.Parameters.AddWithValue("key", message.Key.Value);
        command.Parameters.AddWithValue("digest", Convert.ToHexString(SHA256.HashData(bytes)));
        command.Parameters.AddWithValue("content", bytes);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
