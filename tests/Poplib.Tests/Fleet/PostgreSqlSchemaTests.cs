using Poplib.Fetch;
using Poplib.Fetch.PostgreSql;
using Poplib.Fetch.PostgreSql.Schema;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Fleet;

/// <summary>Opening the PostgreSQL state: the schema made once however many workers start at once, and every bad start a clear error.</summary>
[Collection(nameof(PostgresCollection))]
public sealed class PostgreSqlSchemaTests(PostgresFixture fixture)
{
    [PostgresFact]
    public async Task Workers_starting_at_once_create_the_schema_once()
    {
        await using var world = new FleetWorld(fixture.Server);

        PostgreSqlFetchDatabase[] opened = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => world.Open())));

        Assert.Equal(6, opened.Length);
        // Each step once (a step run twice would fail on its CREATE TABLE, or leave a second version row).
        Assert.Equal((long)SchemaInstaller.CurrentVersion, world.Sql("SELECT count(*) FROM {s}.schema_version"));
        Assert.Equal(SchemaInstaller.CurrentVersion, world.Sql("SELECT max(version) FROM {s}.schema_version"));
    }

    [PostgresFact]
    public async Task A_schema_newer_than_this_code_is_refused_and_left_alone()
    {
        await using var world = new FleetWorld(fixture.Server);
        world.Open();
        world.Sql("INSERT INTO {s}.schema_version(version) VALUES (99)");

        FetchException e = Assert.Throws<FetchException>(() => world.Open());

        Assert.Equal(FetchFailure.State, e.Failure);
        Assert.Contains("version 99, newer than this poplib understands", e.Message, StringComparison.Ordinal);
        Assert.Equal(SchemaInstaller.CurrentVersion + 1L, world.Sql("SELECT count(*) FROM {s}.schema_version"));
    }

    [PostgresFact]
    public async Task A_role_that_may_not_create_the_schema_gets_an_error_that_says_what_to_do()
    {
        await using var world = new FleetWorld(fixture.Server);

        FetchException e = Assert.Throws<FetchException>(() =>
            PostgreSqlFetchDatabase.Open(world.Options() with { ConnectionString = fixture.Server.ReaderConnectionString }));

        Assert.Equal(FetchFailure.State, e.Failure);
        Assert.Contains($"role \"{fixture.Server.ReaderUser}\" may not create it", e.Message, StringComparison.Ordinal);
        Assert.Contains("GRANT CREATE ON DATABASE", e.Message, StringComparison.Ordinal);
        Assert.Null(world.Sql("SELECT to_regclass('{s}.schema_version')::text"));
    }

    [PostgresFact]
    public async Task Without_migrating_a_missing_schema_is_an_error_not_a_creation()
    {
        await using var world = new FleetWorld(fixture.Server);

        FetchException e = Assert.Throws<FetchException>(() => PostgreSqlFetchDatabase.Open(world.Options() with { Migrate = false }));

        Assert.Contains("no Poplib schema", e.Message, StringComparison.Ordinal);
        Assert.Null(world.Sql("SELECT to_regclass('{s}.schema_version')::text"));
    }

    [PostgresFact]
    public async Task A_refused_password_is_named_as_such_and_never_shown()
    {
        await using var world = new FleetWorld(fixture.Server);
        string wrong = "Wr0ng-" + Guid.NewGuid().ToString("N")[..8];

        FetchException e = Assert.Throws<FetchException>(() => PostgreSqlFetchDatabase.Open(world.Options() with
        {
            ConnectionString = $"postgres://{fixture.Server.OwnerUser}:{wrong}@{fixture.Server.Host}:{fixture.Server.Port}/{fixture.Server.Database}",
        }));

        Assert.Equal(FetchFailure.State, e.Failure);
        Assert.Contains("PGPASSWORD", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, e.ToString(), StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task An_unreachable_server_is_a_state_failure_naming_host_and_port()
    {
        await using var world = new FleetWorld(fixture.Server);

        FetchException e = Assert.Throws<FetchException>(() => PostgreSqlFetchDatabase.Open(world.Options() with { ConnectionString = "postgres://nobody@127.0.0.1:1/x" }));

        Assert.Equal(FetchFailure.State, e.Failure);
        Assert.Contains("127.0.0.1:1/x", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres://alice:s3cret@[bad/db")]
    [InlineData("postgres://alice:s3cret@host/db?frobnicate=1")]
    [InlineData("Host=;Password=s3cret")]
    [InlineData("Hots=x;Password=s3cret")]
    public void A_connection_string_that_cannot_be_read_is_a_configuration_error_with_the_password_masked(string text)
    {
        FetchException e = Assert.Throws<FetchException>(() => PostgreSqlConnectionString.Parse(text));

        Assert.Equal(FetchFailure.Configuration, e.Failure);
        Assert.DoesNotContain("s3cret", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres://alice:s3cret@db.example:5433/mail", "postgres://alice:***@db.example:5433/mail")]
    [InlineData("postgresql://alice@db/mail", "postgresql://alice@db/mail")]
    [InlineData("Host=db;Username=alice;Password=s3cret", "host=db;username=alice;password=***")]
    public void Addresses_are_shown_without_their_password(string text, string shown) =>
        Assert.Equal(shown, PostgreSqlConnectionString.Masked(text));

    [Fact]
    public void A_url_becomes_the_connection_string_libpq_would_use()
    {
        var builder = PostgreSqlConnectionString.Parse("postgres://al%40ice:p%3Ass@db.example:5433/mail%20box?sslmode=verify-full&application_name=w1");

        Assert.Equal(("db.example", 5433, "mail box", "al@ice", "p:ss", Npgsql.SslMode.VerifyFull, "w1"),
            (builder.Host, builder.Port, builder.Database, builder.Username, builder.Password, builder.SslMode, builder.ApplicationName));
    }
}
