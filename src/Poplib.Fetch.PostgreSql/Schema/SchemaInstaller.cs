using System.Globalization;
using Npgsql;

namespace Poplib.Fetch.PostgreSql.Schema;

/// <summary>
/// Brings the schema to <see cref="SchemaMigrations"/>' version: in one transaction under an advisory lock, so that workers
/// starting at once take turns and the later ones find the work done; refuses a schema newer than this code.
/// </summary>
internal static class SchemaInstaller
{
    /// <summary>The version this code writes and understands.</summary>
    public static int CurrentVersion => SchemaMigrations.Steps.Length;

    public static async Task EnsureAsync(NpgsqlDataSource source, PostgreSqlFetchOptions options, bool async, CancellationToken cancellationToken)
    {
        string schema = options.Schema;
        await using NpgsqlConnection connection = async ? await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false) : source.OpenConnection();
        int? found = await VersionAsync(connection, schema, async, cancellationToken).ConfigureAwait(false);
        if (found == CurrentVersion)
            return;
        if (found > CurrentVersion)
            throw NewerSchema(schema, found.Value);
        if (!options.Migrate)
        {
            throw new FetchException(FetchFailure.State, found is null
                ? $"the database has no Poplib schema \"{schema}\", and migrating is turned off: run a worker or `poplib fetch --state … --sync-accounts` once as a role that may create it"
                : $"the Poplib schema \"{schema}\" is at version {found}; this poplib needs {CurrentVersion}, and migrating is turned off: migrate once as a role that may");
        }

        try
        {
            await using NpgsqlTransaction transaction = async ? await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false) : connection.BeginTransaction();
            // Transaction-scoped: released at commit or rollback, and by the server if this process dies.
            await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({LockKey(schema)})", async, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, $"CREATE SCHEMA IF NOT EXISTS {schema}; CREATE TABLE IF NOT EXISTS {schema}.schema_version(version integer NOT NULL, applied timestamptz NOT NULL DEFAULT now())",
                async, cancellationToken).ConfigureAwait(false);
            int version = await ScalarAsync(connection, $"SELECT coalesce(max(version), 0) FROM {schema}.schema_version", async, cancellationToken).ConfigureAwait(false);
            if (version > CurrentVersion)
                throw NewerSchema(schema, version);
            for (int step = version + 1; step <= CurrentVersion; step++)
            {
                await ExecuteAsync(connection, SchemaMigrations.Steps[step - 1].Replace("{s}", schema, StringComparison.Ordinal), async, cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"INSERT INTO {schema}.schema_version(version) VALUES ({step})"), async, cancellationToken).ConfigureAwait(false);
            }

            if (async)
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            else
                transaction.Commit();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new FetchException(FetchFailure.State,
                $"the database has no current Poplib schema \"{schema}\" and the role \"{connection.UserName}\" may not create it ({e.MessageText}): " +
                $"run a worker or `poplib fetch --state … --sync-accounts` once as a role that may (the database's owner), or GRANT CREATE ON DATABASE {connection.Database} TO {connection.UserName}", e);
        }
    }

    private static FetchException NewerSchema(string schema, int version) =>
        new(FetchFailure.State, $"the Poplib schema \"{schema}\" is at version {version}, newer than this poplib understands ({CurrentVersion}): upgrade poplib on this machine; nothing was changed");

    /// <summary>The schema's version, or null if it has none (no schema, or no version table).</summary>
    private static async Task<int?> VersionAsync(NpgsqlConnection connection, string schema, bool async, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass(@table) IS NOT NULL", connection);
        command.Parameters.AddWithValue("table", schema + ".schema_version");
        bool exists = (bool)(async ? await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) : command.ExecuteScalar())!;
        if (!exists)
            return null;
        return await ScalarAsync(connection, $"SELECT coalesce(max(version), 0) FROM {schema}.schema_version", async, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A stable 63-bit key for the schema's advisory lock (hashes differ between runs of .NET; this one does not).</summary>
    private static long LockKey(string schema)
    {
        ulong hash = 14695981039346656037UL; // FNV-1a
        foreach (char c in "poplib-schema:" + schema)
            hash = (hash ^ c) * 1099511628211UL;
        return (long)(hash >> 1);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, bool async, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (async)
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        else
            command.ExecuteNonQuery();
    }

    private static async Task<int> ScalarAsync(NpgsqlConnection connection, string sql, bool async, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        object? value = async ? await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) : command.ExecuteScalar();
        return Convert.ToInt32(value, CultureInfo.InvariantCulture);
    }
}
