using System.Text.Json;
using Poplib.Cli;

namespace Poplib.Tests.Cli.Fetch;

/// <summary>The config file: its format, its checks, and several accounts in one run.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class FetchConfigTests
{
    [Fact]
    public async Task Several_accounts_run_in_parallel_and_one_failure_does_not_stop_the_others()
    {
        await using FetchWorld good = await FetchWorld.StartAsync([FetchWorld.Message(1), FetchWorld.Message(2)]);
        await using FetchWorld alsoGood = await FetchWorld.StartAsync([FetchWorld.Message(3)]);
        string config = Write(good.Folder, $$"""
            // comments and trailing commas are fine
            {
              "state": "state/fetch.sqlite",
              "parallel": 3,
              "defaults": { "security": "none", "allowInsecureAuth": true, "user": "alice", "password": { "env": "{{FetchWorld.PasswordVariable}}" }, "auth": "user", "policy": "delete" },
              "accounts": [
                { "name": "one", "host": "127.0.0.1", "port": {{good.Server.Port}}, "maildir": "one" },
                { "name": "two", "host": "127.0.0.1", "port": {{alsoGood.Server.Port}}, "mbox": "two.mbox", "policy": "keep" },
                { "name": "broken", "host": "127.0.0.1", "port": 1, "maildir": "broken", "timeout": 5 },
                { "name": "off", "host": "127.0.0.1", "port": 1, "maildir": "off", "enabled": false },
                { "name": "no-secret", "host": "127.0.0.1", "port": {{good.Server.Port}}, "user": "bob", "maildir": "x", "password": { "env": "POPLIB_TEST_UNSET_VARIABLE" } },
              ],
            }
            """);

        CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--config", config, "--json");
        Assert.Equal(ExitCodes.SomeAccountsFailed, outcome.ExitCode);
        using JsonDocument json = JsonDocument.Parse(outcome.Out);
        JsonElement[] accounts = [.. json.RootElement.GetProperty("accounts").EnumerateArray()];
        Assert.Equal(["one", "two", "broken", "no-secret"], accounts.Select(a => a.GetProperty("name").GetString()));
        Assert.Equal(["ok", "ok", "failed", "failed"], accounts.Select(a => a.GetProperty("status").GetString()));
        Assert.Equal(ExitCodes.Connection, accounts[2].GetProperty("exitCode").GetInt32());
        Assert.Contains("POPLIB_TEST_UNSET_VARIABLE", accounts[3].GetProperty("error").GetString());
        Assert.Equal(2, Directory.GetFiles(Path.Combine(good.Folder, "one", "new")).Length);
        Assert.Equal(0, good.Memory.Count);      // "delete" from the defaults
        Assert.Equal(1, alsoGood.Memory.Count);  // "keep" of its own
        Assert.True(File.Exists(Path.Combine(good.Folder, "state", "fetch.sqlite")));

        CliRunner.Outcome selected = await CliRunner.RunAsync("fetch", "--config", config, "--account", "two", "--quiet");
        Assert.Equal(0, selected.ExitCode);
        Assert.Equal("", selected.Out);
    }

    [Fact]
    public async Task The_summary_table_names_each_account()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir);
        string[] lines = outcome.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^ACCOUNT\s+NEW\s+BYTES\s+DELETED\s+TIME\s+STATUS$", lines[^2]);
        Assert.Matches(@"^alice@127\.0\.0\.1\s+1\s+[\d,]+\s+0\s+[\d.]+s\s+ok$", lines[^1]);
    }

    [Fact]
    public async Task An_inline_password_needs_a_file_only_its_owner_can_read()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        string config = Write(world.Folder, $$"""
            { "accounts": [ { "name": "a", "host": "127.0.0.1", "port": {{world.Server.Port}}, "security": "none", "allowInsecureAuth": true,
                              "user": "alice", "password": "{{FetchWorld.Password}}", "maildir": "m" } ] }
            """);
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        CliRunner.Outcome exposed = await CliRunner.RunAsync("fetch", "--config", config, "--state", Path.Combine(world.Folder, "s.sqlite"));
        Assert.Equal(ExitCodes.Config, exposed.ExitCode);
        Assert.Contains("chmod 600", exposed.Error);

        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        CliRunner.Outcome private_ = await CliRunner.RunAsync("fetch", "--config", config, "--state", Path.Combine(world.Folder, "s.sqlite"));
        Assert.True(private_.ExitCode == 0, private_.Error);
    }

    [Fact]
    public async Task A_password_command_supplies_the_secret()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        string config = Write(world.Folder, $$"""
            { "accounts": [ { "name": "a", "host": "127.0.0.1", "port": {{world.Server.Port}}, "security": "none", "allowInsecureAuth": true,
                              "user": "alice", "password": { "command": "printf '%s\\nsecond line\\n' {{FetchWorld.Password}}" }, "maildir": "m" } ] }
            """);
        CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--config", config, "--state", Path.Combine(world.Folder, "s.sqlite"));
        Assert.True(outcome.ExitCode == 0, outcome.Error);
    }

    [Theory]
    [InlineData("""{ "accounts": [ { "name": "a", "host": "h", "user": "u", "maildir": "m", "hots": "typo" } ] }""", "unknown setting \"hots\"")]
    [InlineData("""{ "accounts": [ { "name": "a", "host": "h", "user": "u" } ] }""", "exactly one destination")]
    [InlineData("""{ "accounts": [ { "name": "a", "host": "h", "user": "u", "maildir": "m", "mbox": "x" } ] }""", "exactly one destination")]
    [InlineData("""{ "accounts": [ { "name": "a", "host": "h", "user": "u", "maildir": "m", "policy": "purge" } ] }""", "keep or delete")]
    [InlineData("""{ "accounts": [ { "name": "a", "host": "h", "user": "u", "maildir": "m", "maxSize": "lots" } ] }""", "maxSize")]
    [InlineData("""{ "accounts": [ { "name": "a", "host": "h", "user": "u", "maildir": "m", "onUidlReset": "shrug" } ] }""", "refuse, dedupe, mark-seen, refetch")]
    [InlineData("""{ "accounts": [ { "name": "a", "host": "h", "user": "u", "maildir": "m", "password": { "env": "X", "file": "y" } } ] }""", "exactly one of env, file, command")]
    [InlineData("""{ "accounts": [ { "name": "a", "host": "h", "user": "u", "maildir": "m" }, { "name": "a", "host": "h", "user": "u", "maildir": "m" } ] }""", "two accounts are called")]
    [InlineData("""{ "accounts": [] }""", "non-empty array")]
    [InlineData("""{ "accounts": [ { "name": "a", "host": "H", "user": "u", "maildir": "m" }, { "name": "b", "host": "h", "user": "u", "mbox": "x" } ] }""", "fetch the same mailbox")]
    [InlineData("""{ "accounts": [ { "name": "a" """, "not valid JSON")]
    public async Task Config_mistakes_are_reported_with_the_file_and_the_field(string json, string message)
    {
        string folder = Path.Combine(Path.GetTempPath(), "poplib-config-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        try
        {
            string config = Write(folder, json);
            CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--config", config, "--state", Path.Combine(folder, "s.sqlite"));
            Assert.Equal(ExitCodes.Config, outcome.ExitCode);
            Assert.Contains(config, outcome.Error);
            Assert.Contains(message, outcome.Error);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData(new[] { "fetch", "--host", "h", "--user", "u", "--password-env", "PATH" }, "one destination")]
    [InlineData(new[] { "fetch", "--host", "h", "--user", "u", "--password-env", "PATH", "--maildir", "m", "--mbox", "x" }, "one destination")]
    [InlineData(new[] { "fetch", "--host", "h", "--user", "u", "--password-env", "PATH", "--maildir", "m", "--keep", "--delete" }, "exclude each other")]
    [InlineData(new[] { "fetch", "--host", "h", "--user", "u", "--password-env", "PATH", "--maildir", "m", "--max-size", "big" }, "not a size")]
    [InlineData(new[] { "fetch", "--host", "h", "--user", "u", "--password-env", "PATH", "--maildir", "m", "--on-uidl-reset", "x" }, "--on-uidl-reset must be one of")]
    [InlineData(new[] { "fetch", "--config", "c.json", "--host", "h" }, "cannot be combined with --config")]
    public async Task Command_line_mistakes_are_usage_errors(string[] args, string message)
    {
        CliRunner.Outcome outcome = await CliRunner.RunAsync(args);
        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.Contains(message, outcome.Error);
    }

    /// <summary>Writes <paramref name="json"/> as poplib.json in <paramref name="folder"/>, readable by its owner only.</summary>
    internal static string Write(string folder, string json)
    {
        string path = Path.Combine(folder, "poplib.json");
        File.WriteAllText(path, json);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }
}
