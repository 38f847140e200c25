using Poplib.Tests.Interop;

namespace Poplib.Tests.Infrastructure;

/// <summary>
/// A private PostgreSQL server on 127.0.0.1, started by <c>scripts/postgres.sh</c> in a temporary
/// folder: database <c>poplib</c>, owned by <c>poplib_owner</c> (may create schemas), and
/// <c>poplib_reader</c>, who may connect but create nothing; both log in with generated passwords
/// (scram-sha-256). Everything here comes from the script's env file (scripts/README.md), the same
/// contract a crash test or a benchmark uses.
/// </summary>
public sealed class PostgresInstance : IDisposable
{
    private Dictionary<string, string> _env = [];

    private PostgresInstance(string directory)
    {
        Directory = directory;
        LoadEnv();
    }

    /// <summary>The instance's folder (data, log, env file).</summary>
    public string Directory { get; }

    /// <summary>127.0.0.1: the server listens nowhere else.</summary>
    public string Host => _env["HOST"];

    /// <summary>A free port picked by the first start; restarts, pauses and resumes keep it.</summary>
    public int Port => int.Parse(_env["PORT"]);

    public string Database => _env["DATABASE"];

    public string OwnerUser => _env["OWNER_USER"];

    public string OwnerPassword => _env["OWNER_PASSWORD"];

    public string ReaderUser => _env["READER_USER"];

    public string ReaderPassword => _env["READER_PASSWORD"];

    /// <summary><c>postgres://poplib_owner:PASSWORD@127.0.0.1:PORT/poplib</c></summary>
    public string OwnerUrl => _env["OWNER_URL"];

    /// <summary><c>postgres://poplib_reader:PASSWORD@127.0.0.1:PORT/poplib</c></summary>
    public string ReaderUrl => _env["READER_URL"];

    /// <summary>The owner's Npgsql connection string (keywords: Host, Port, Database, Username, Password).</summary>
    public string OwnerConnectionString => ConnectionString(OwnerUser, OwnerPassword);

    /// <summary>The reader's Npgsql connection string.</summary>
    public string ReaderConnectionString => ConnectionString(ReaderUser, ReaderPassword);

    /// <summary>The server's Unix socket directory (for the script's superuser only: mode 0700).</summary>
    public string SocketDirectory => _env["SOCKET_DIR"];

    public string DataDirectory => _env["DATA_DIR"];

    /// <summary>The server's log (start-up, crash recovery, errors).</summary>
    public string LogPath => _env["LOG"];

    /// <summary>The server's bin directory: <c>psql</c>, <c>pg_isready</c> of the same version.</summary>
    public string BinDirectory => _env["BIN_DIR"];

    /// <summary>The server's major version (<c>15</c>).</summary>
    public string Version => _env["VERSION"];

    /// <summary>Whether a PostgreSQL server is installed (scripts/install-deps.sh installs it).</summary>
    public static bool IsInstalled =>
        System.IO.Directory.Exists("/usr/lib/postgresql")
        && System.IO.Directory.EnumerateDirectories("/usr/lib/postgresql")
            .Any(v => File.Exists(Path.Combine(v, "bin", "postgres")) && File.Exists(Path.Combine(v, "bin", "initdb")));

    /// <summary>Whether the server accepts connections (<c>postgres.sh status</c>).</summary>
    public bool IsRunning => ProjectScripts.Run("postgres.sh", "status", Directory).ExitCode == 0;

    /// <summary>A new instance in a new temporary folder: initdb, start, roles and database.</summary>
    public static PostgresInstance Start()
    {
        string directory = Path.Combine(Path.GetTempPath(), "poplib-postgres-" + Guid.NewGuid().ToString("N")[..12]);
        Script("start", directory);
        return new PostgresInstance(directory);
    }

    /// <summary>Fast shutdown; the env file goes away. <see cref="Resume"/> starts it again on its port.</summary>
    public void Stop() => Script("stop", Directory);

    /// <summary>Stops and starts the same data on the same port (clients reconnect to the same address).</summary>
    public void Restart()
    {
        Script("restart", Directory);
        LoadEnv();
    }

    /// <summary>Stops the server until <see cref="Resume"/>; the address stays the instance's.</summary>
    public void Pause() => Script("pause", Directory);

    /// <summary>Starts a paused or stopped server again, on its port.</summary>
    public void Resume()
    {
        Script("resume", Directory);
        LoadEnv();
    }

    /// <summary>Drops and recreates the database: empty, same roles and rights. Connections to it are ended.</summary>
    public void Reset() => Script("reset", Directory);

    public void Dispose()
    {
        try
        {
            Stop();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // Leave the folder for inspection; the next run uses another.
        }
    }

    private string ConnectionString(string user, string password) =>
        $"Host={Host};Port={Port};Database={Database};Username={user};Password={password}";

    private void LoadEnv() => _env = ProjectScripts.ReadEnvFile(Path.Combine(Directory, "env"));

    private static void Script(string command, string directory) => ProjectScripts.RunChecked("postgres.sh", command, directory);
}

/// <summary>One PostgreSQL server shared by a collection's tests, stopped after them.</summary>
public sealed class PostgresFixture : IDisposable
{
    private readonly Lazy<PostgresInstance> _server = new(PostgresInstance.Start);

    public PostgresInstance Server => _server.Value;

    public void Dispose()
    {
        if (_server.IsValueCreated)
            _server.Value.Dispose();
    }
}

[CollectionDefinition(nameof(PostgresCollection))]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;

/// <summary>
/// A test that needs PostgreSQL. Without it the test is skipped on a developer's machine, but under
/// CI (<c>CI=true</c>) it runs and fails: CI must prove the state store against a real server.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!PostgresInstance.IsInstalled && !DovecotFactAttribute.IsCi)
            Skip = "PostgreSQL is not installed (run scripts/install-deps.sh as root).";
    }
}

/// <inheritdoc cref="PostgresFactAttribute"/>
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute()
    {
        if (!PostgresInstance.IsInstalled && !DovecotFactAttribute.IsCi)
            Skip = "PostgreSQL is not installed (run scripts/install-deps.sh as root).";
    }
}
