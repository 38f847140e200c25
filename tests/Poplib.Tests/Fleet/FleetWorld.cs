using Npgsql;
using Poplib.Fetch.PostgreSql;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Fleet;

/// <summary>A schema of its own on the shared test server, for one test: opened databases, SQL as the owner.</summary>
internal sealed class FleetWorld(PostgresInstance server) : IAsyncDisposable
{
    private readonly List<PostgreSqlFetchDatabase> _opened = [];

    public string Schema { get; } = "t" + Guid.NewGuid().ToString("N")[..12];

    public PostgresInstance Server => server;

    public PostgreSqlFetchOptions Options(TimeSpan? lease = null, string? owner = null) => new()
    {
        ConnectionString = server.OwnerConnectionString,
        Schema = Schema,
        LeaseDuration = lease ?? TimeSpan.FromSeconds(30),
        Owner = owner ?? "test:" + Environment.ProcessId,
    };

    public PostgreSqlFetchDatabase Open(TimeSpan? lease = null, string? owner = null)
    {
        PostgreSqlFetchDatabase database = PostgreSqlFetchDatabase.Open(Options(lease, owner));
        lock (_opened)
            _opened.Add(database);
        return database;
    }

    /// <summary>Runs SQL as the owner ({s} stands for the schema); returns the first column of the first row (null for SQL NULL).</summary>
    public object? Sql(string sql)
    {
        using var connection = new NpgsqlConnection(server.OwnerConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql.Replace("{s}", Schema, StringComparison.Ordinal), connection);
        object? value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (PostgreSqlFetchDatabase database in _opened)
            await database.DisposeAsync();
        try
        {
            Sql("DROP SCHEMA IF EXISTS {s} CASCADE");
        }
        catch (NpgsqlException)
        {
            // The server may be paused by the test that failed; the schema is dropped with the server.
        }
    }
}
