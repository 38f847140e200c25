using System.Text.Json;
using Poplib.Fetch.PostgreSql;
using Poplib.Tests.Fleet;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Cli.Fetch;

/// <summary>
/// <c>poplib fetch</c> with a PostgreSQL state: a one-shot run, <c>--sync-accounts</c>, <c>--status</c> with owners, and the
/// mistakes a user makes — each refused with a message that says what to do.
/// </summary>
[Collection(nameof(PostgresCollection))]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FetchFleetCliTests(PostgresFixture fixture)
{
    private string Url => $"postgres://{fixture.Server.OwnerUser}:{fixture.Server.OwnerPassword}@{fixture.Server.Host}:{fixture.Server.Port}/{fixture.Server.Database}";

    [PostgresFact]
    public async Task A_one_shot_fetch_keeps_its_state_in_postgresql_and_fetches_nothing_twice()
    {
        await using var world = new FleetWorld(fixture.Server);
        await using FetchWorld fetch = await FetchWorld.StartAsync(Enumerable.Range(1, 12).Select(n => FetchWorld.Message(n)));
        string url = StateUrl(world);

        CliRunner.Outcome first = await CliRunner.RunAsync([.. fetch.ConnectionArgs(), "--state", url, "--maildir", fetch.Maildir, "--json"]);
        CliRunner.Outcome second = await CliRunner.RunAsync([.. fetch.ConnectionArgs(), "--state", url, "--maildir", fetch.Maildir, "--json"]);

        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Equal(12, JsonDocument.Parse(first.Out).RootElement.GetProperty("accounts")[0].GetProperty("delivered").GetInt32());
        Assert.Equal(0, JsonDocument.Parse(second.Out).RootElement.GetProperty("accounts")[0].GetProperty("delivered").GetInt32());
        Assert.Equal(12, fetch.MaildirMessages().Count);
        Assert.DoesNotContain(fixture.Server.OwnerPassword, first.Out + first.Error + second.Error, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task Sync_accounts_stores_the_config_and_status_lists_them_with_their_owner()
    {
        await using var world = new FleetWorld(fixture.Server);
        await using FetchWorld fetch = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        string config = Config(fetch, """{ "name": "one", "maildir": "mail" }, { "name": "two", "port": 1, "maildir": "other" }""", """{ "env": "POPLIB_FETCH_TEST_PW" }""");
        PostgreSqlFetchDatabase database = world.Open();

        CliRunner.Outcome synced = await CliRunner.RunAsync("fetch", "--config", config, "--sync-accounts", "--state", StateUrl(world));
        CliRunner.Outcome status = await CliRunner.RunAsync("fetch", "--status", "--json", "--state", StateUrl(world));

        Assert.True(synced.ExitCode == 0, synced.Error);
        Assert.Contains("2 account(s) in postgres://", synced.Out, StringComparison.Ordinal);
        Assert.Contains("2 added, 0 updated, 0 unchanged, 0 removed", synced.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Server.OwnerPassword, synced.Out + synced.Error, StringComparison.Ordinal);
        Assert.Equal(["one", "two"], database.Accounts.List().Select(a => a.Name));
        Assert.Equal(Path.Combine(fetch.Folder, "mail"), database.Accounts.List()[0].Settings.Maildir); // relative to the config file
        JsonElement accounts = JsonDocument.Parse(status.Out).RootElement.GetProperty("accounts");
        Assert.Equal(2, accounts.GetArrayLength());
        Assert.Equal(JsonValueKind.Null, accounts[0].GetProperty("owner").ValueKind);
    }

    [PostgresFact]
    public async Task Sync_accounts_refuses_a_password_or_a_command_in_the_database()
    {
        await using var world = new FleetWorld(fixture.Server);
        await using FetchWorld fetch = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        foreach (string password in new[] { "\"inline-secret\"", """{ "command": "echo x" }""" })
        {
            string config = Config(fetch, """{ "name": "one", "maildir": "mail" }""", password);

            CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--config", config, "--sync-accounts", "--state", StateUrl(world));

            Assert.Equal(78, outcome.ExitCode);
            Assert.Contains("stores a password only as {\"env\": \"VAR\"} or {\"file\": \"/path\"}", outcome.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("inline-secret", outcome.Error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(new[] { "fetch", "--daemon", "--state", "postgres://u@127.0.0.1:1/db", "--maildir", "/tmp/x" }, "--maildir cannot be given to a worker")]
    [InlineData(new[] { "fetch", "--sync-accounts", "--state", "postgres://u@127.0.0.1:1/db" }, "--sync-accounts needs --config FILE")]
    [InlineData(new[] { "fetch", "--daemon", "--state", "postgres://u@127.0.0.1:1/db", "--lease", "1s" }, "--lease: not a duration from 2s to 1h: 1s")]
    [InlineData(new[] { "fetch", "--host", "h", "--user", "u", "--maildir", "/tmp/x", "--state", "/tmp/s.sqlite", "--lease", "10s" }, "--lease goes with a PostgreSQL --state")]
    public async Task Fleet_options_in_the_wrong_place_are_usage_errors(string[] args, string message)
    {
        CliRunner.Outcome outcome = await CliRunner.RunAsync(args);

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(message, outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreadable_state_url_is_a_configuration_error_without_its_password()
    {
        CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--daemon", "--state", "postgres://alice:s3cret@[bad/db");

        Assert.Equal(78, outcome.ExitCode);
        Assert.Contains("not a PostgreSQL URL or connection string: postgres://alice:***@[bad/db", outcome.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", outcome.Error, StringComparison.Ordinal);
    }

    /// <summary>The state URL of a test's own schema (the URL's <c>schema</c> parameter).</summary>
    private string StateUrl(FleetWorld world) => $"{Url}?schema={world.Schema}";

    private static string Config(FetchWorld fetch, string accounts, string password)
    {
        string path = Path.Combine(fetch.Folder, "fetch.json");
        File.WriteAllText(path, $$"""
            {
              "defaults": { "host": "127.0.0.1", "port": {{fetch.Server.Port}}, "security": "none", "allowInsecureAuth": true, "user": "{{FetchWorld.User}}", "password": {{password}} },
              "accounts": [ {{accounts}} ]
            }
            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }
}
