using Npgsql;

namespace Poplib.CrashTest.Fleet;

/// <summary>
/// The fleet test's private PostgreSQL (<c>scripts/postgres.sh start DIR</c>), paused and resumed mid-run on the same port;
/// the harness's own queries go over unpooled connections (a pooled one would be stale after a restart).
/// </summary>
internal sealed class FleetPostgres : IDisposable
{
    private readonly string _script;
    private readonly Dictionary<string, string> _env;
    private readonly NpgsqlDataSource _owner;

    private FleetPostgres(string script, string directory, Dictionary<string, string> env)
    {
        _script = script;
        Directory = directory;
        _env = env;
        _owner = NpgsqlDataSource.Create(
            $"Host={Host};Port={Port};Database={Database};Username={env["OWNER_USER"]};Password={OwnerPassword};Pooling=false;Timeout=5;Command Timeout=20");
    }

    public string Directory { get; }

    public string Host => _env["HOST"];

    public string Port => _env["PORT"];

    public string Database => _env["DATABASE"];

    public string OwnerPassword => _env["OWNER_PASSWORD"];

    public string ReaderPassword => _env["READER_PASSWORD"];

    /// <summary>The owner's URL without its password (the workers read it from PGPASSWORD).</summary>
    public string OwnerUrl => Url(_env["OWNER_USER"]);

    public string ReaderUrl => Url(_env["READER_USER"]);

    /// <summary>The owner's Npgsql connection string without its password, for the library's workers.</summary>
    public string OwnerConnectionString => $"Host={Host};Port={Port};Database={Database};Username={_env["OWNER_USER"]}";

    public static FleetPostgres Start()
    {
        string script = Path.Combine(Repository.Root(), "scripts", "postgres.sh");
        string directory = Path.Combine(Path.GetTempPath(), "poplib-fleet-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Repository.RunScript(script, "start", directory);
        return new FleetPostgres(script, directory, Repository.ReadEnv(Path.Combine(directory, "env")));
    }

    public string Url(string user) => $"postgres://{user}@{Host}:{Port}/{Database}";

    /// <summary>Stops the server; its address stays (<c>postgres.sh pause</c>).</summary>
    public void Pause() => Repository.RunScript(_script, "pause", Directory);

    /// <summary>Starts it again on the same port.</summary>
    public void Resume() => Repository.RunScript(_script, "resume", Directory);

    public int Execute(string sql, params (string Name, object Value)[] parameters)
    {
        using NpgsqlConnection connection = _owner.OpenConnection();
        using var command = new NpgsqlCommand(sql, connection);
        foreach ((string name, object value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return command.ExecuteNonQuery();
    }

    /// <summary>The rows of <paramref name="sql"/>, each as its column values.</summary>
    public List<object?[]> Query(string sql, params (string Name, object Value)[] parameters)
    {
        using NpgsqlConnection connection = _owner.OpenConnection();
        using var command = new NpgsqlCommand(sql, connection);
        foreach ((string name, object value) in parameters)
            command.Parameters.AddWithValue(name, value);
        using NpgsqlDataReader reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }

        return rows;
    }

    public void Dispose()
    {
        _owner.Dispose();
        try
        {
            Repository.RunScript(_script, "stop", Directory);
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or HarnessException or UnauthorizedAccessException)
        {
            // Left for inspection.
        }
    }
}
