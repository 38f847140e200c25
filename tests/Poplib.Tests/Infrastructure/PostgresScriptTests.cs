namespace Poplib.Tests.Infrastructure;

/// <summary>
/// scripts/postgres.sh gives the state store's tests a real PostgreSQL server: checked here with
/// the server's own <c>psql</c> as the client, over TCP with the generated passwords, as Npgsql
/// will connect.
/// </summary>
[Collection(nameof(PostgresCollection))]
public sealed class PostgresScriptTests(PostgresFixture fixture)
{
    private readonly PostgresInstance _server = fixture.Server;

    [PostgresFact]
    public void Owner_logs_in_over_tcp_with_its_password_and_creates_a_schema()
    {
        string schema = UniqueName("owned");

        string output = Succeed(Owner($"""
            CREATE SCHEMA {schema};
            CREATE TABLE {schema}.t (x int);
            INSERT INTO {schema}.t VALUES (42);
            SELECT current_user, inet_server_addr(), x FROM {schema}.t;
            """));

        Assert.Equal("poplib_owner|127.0.0.1|42", output);
    }

    [PostgresFact]
    public void Reader_logs_in_but_may_not_create_a_schema_or_a_table_in_public()
    {
        Assert.Equal("poplib_reader", Succeed(Reader("SELECT current_user")));

        ProcessResult schema = Reader($"CREATE SCHEMA {UniqueName("reader")}");
        ProcessResult table = Reader($"CREATE TABLE public.{UniqueName("reader")} (x int)");

        Assert.NotEqual(0, schema.ExitCode);
        Assert.Contains("permission denied for database poplib", schema.StandardError);
        Assert.NotEqual(0, table.ExitCode);
        Assert.Contains("permission denied for schema public", table.StandardError);
    }

    [PostgresTheory]
    [InlineData("poplib_owner")]
    [InlineData("poplib_reader")]
    public void A_wrong_password_is_refused(string user)
    {
        ProcessResult result = Psql(user, "not-the-password", "SELECT 1");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"password authentication failed for user \"{user}\"", result.StandardError);
    }

    [PostgresFact]
    public void The_superuser_cannot_log_in_over_tcp()
    {
        ProcessResult result = Psql("postgres", _server.OwnerPassword, "SELECT 1");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("pg_hba.conf rejects connection", result.StandardError);
    }

    [PostgresFact]
    public void The_server_is_durable_listens_on_loopback_only_and_takes_many_connections()
    {
        string settings = Succeed(Owner("""
            SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes'),
                   current_setting('listen_addresses'), current_setting('max_connections')::int >= 200,
                   current_setting('password_encryption');
            """));

        Assert.Equal("on|on|on|127.0.0.1|t|scram-sha-256", settings);
        Assert.Equal("127.0.0.1", _server.Host);
        Assert.Equal($"postgres://poplib_owner:{_server.OwnerPassword}@127.0.0.1:{_server.Port}/poplib", _server.OwnerUrl);
        Assert.Equal($"postgres://poplib_reader:{_server.ReaderPassword}@127.0.0.1:{_server.Port}/poplib", _server.ReaderUrl);
        Assert.Equal($"Host=127.0.0.1;Port={_server.Port};Database=poplib;Username=poplib_owner;Password={_server.OwnerPassword}",
            _server.OwnerConnectionString);
        Assert.NotEqual(_server.OwnerPassword, _server.ReaderPassword);
    }

    [PostgresFact]
    public void Restart_keeps_the_data_and_the_port()
    {
        string table = CreateTableWithRow();
        int port = _server.Port;

        _server.Restart();

        Assert.Equal(port, _server.Port);
        Assert.True(_server.IsRunning);
        Assert.Equal("1", Succeed(Owner($"SELECT x FROM {table}")));
    }

    [PostgresFact]
    public void Pause_keeps_the_server_down_until_resume_brings_it_back_on_the_same_port()
    {
        string table = CreateTableWithRow();
        int port = _server.Port;

        _server.Pause();
        try
        {
            Assert.False(_server.IsRunning);
            ProcessResult down = Owner("SELECT 1");
            Assert.NotEqual(0, down.ExitCode);
            Assert.Contains("Connection refused", down.StandardError);
            Assert.Equal("paused", ProjectScripts.Run("postgres.sh", "status", _server.Directory).StandardOutput.Trim());
        }
        finally
        {
            _server.Resume();
        }

        Assert.Equal(port, _server.Port);
        Assert.Equal("1", Succeed(Owner($"SELECT x FROM {table}")));
    }

    [PostgresFact]
    public void Stop_then_status_fails_and_start_brings_the_same_data_back()
    {
        string table = CreateTableWithRow();
        string env = Path.Combine(_server.Directory, "env");

        _server.Stop();
        try
        {
            ProcessResult status = ProjectScripts.Run("postgres.sh", "status", _server.Directory);
            Assert.Equal(1, status.ExitCode);
            Assert.Equal("not running", status.StandardOutput.Trim());
            Assert.False(File.Exists(env));
            Assert.Contains("Connection refused", Owner("SELECT 1").StandardError);

            ProjectScripts.RunChecked("postgres.sh", "start", _server.Directory);
        }
        finally
        {
            _server.Resume(); // a no-op if start worked; reloads the env file
        }

        Assert.True(_server.IsRunning);
        Assert.Equal("1", Succeed(Owner($"SELECT x FROM {table}")));
    }

    [PostgresFact]
    public void Start_on_a_running_instance_changes_nothing()
    {
        var before = ProjectScripts.ReadEnvFile(Path.Combine(_server.Directory, "env"));

        ProjectScripts.RunChecked("postgres.sh", "start", _server.Directory);

        Assert.Equal(before, ProjectScripts.ReadEnvFile(Path.Combine(_server.Directory, "env")));
    }

    [PostgresFact]
    public void Reset_empties_the_database_and_keeps_the_roles_and_their_rights()
    {
        string table = CreateTableWithRow();

        _server.Reset();

        Assert.Contains("does not exist", Owner($"SELECT x FROM {table}").StandardError);
        Assert.Equal("0", Succeed(Owner("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'data_%'")));
        Assert.Contains("permission denied for database poplib", Reader($"CREATE SCHEMA {UniqueName("reader")}").StandardError);
        CreateTableWithRow();
    }

    [PostgresFact]
    public void Start_refuses_a_directory_it_did_not_make()
    {
        string directory = Path.Combine(Path.GetTempPath(), "poplib-postgres-foreign-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        try
        {
            File.WriteAllText(Path.Combine(directory, "precious.txt"), "not yours");

            ProcessResult result = ProjectScripts.Run("postgres.sh", "start", directory);

            Assert.Equal(1, result.ExitCode);
            Assert.Contains("not empty and was not made by postgres.sh", result.StandardError);
            Assert.Equal(["precious.txt"], Directory.GetFileSystemEntries(directory).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private string CreateTableWithRow()
    {
        string schema = UniqueName("data");
        Succeed(Owner($"CREATE SCHEMA {schema}; CREATE TABLE {schema}.t (x int); INSERT INTO {schema}.t VALUES (1);"));
        return schema + ".t";
    }

    private ProcessResult Owner(string sql) => Psql(_server.OwnerUser, _server.OwnerPassword, sql);

    private ProcessResult Reader(string sql) => Psql(_server.ReaderUser, _server.ReaderPassword, sql);

    /// <summary>psql over TCP to the instance's address; the password from the environment, as scripts pass it.</summary>
    private ProcessResult Psql(string user, string password, string sql) => ProjectScripts.RunProgram(
        Path.Combine(_server.BinDirectory, "psql"),
        ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", _server.Host, "-p", _server.Port.ToString(),
            "-U", user, "-d", _server.Database, "-c", sql],
        new Dictionary<string, string> { ["PGPASSWORD"] = password, ["PGCONNECT_TIMEOUT"] = "10" },
        TimeSpan.FromSeconds(30));

    private static string Succeed(ProcessResult result)
    {
        Assert.True(result.ExitCode == 0, $"psql failed ({result.ExitCode}): {result.StandardError}");
        return result.StandardOutput.Trim();
    }

    private static string UniqueName(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}
