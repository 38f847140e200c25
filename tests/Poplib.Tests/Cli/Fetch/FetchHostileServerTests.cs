using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Poplib.Cli;
using Poplib.Testing;

namespace Poplib.Tests.Cli.Fetch;

/// <summary>Servers that lie about sizes, reuse UIDLs on messages without a Message-ID, or dribble their replies.</summary>
public class FetchHostileServerTests
{
    [Fact]
    public async Task Max_size_is_enforced_on_what_the_server_sends_not_on_what_list_says()
    {
        byte[] small = FetchWorld.Message(1);
        byte[] big = FetchWorld.Message(2, new string('x', 200_000) + "\n");
        // LIST says 0 octets for every message.
        await using FetchWorld world = await FetchWorld.StartAsync([small, big], new WrongListSizes(-10_000_000));

        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir, "--max-size", "10K", "--delete", "--json");
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        using JsonDocument json = JsonDocument.Parse(outcome.Out);
        JsonElement account = json.RootElement.GetProperty("accounts")[0];
        Assert.Equal(1, account.GetProperty("delivered").GetInt32());
        Assert.Equal(1, account.GetProperty("skippedOversize").GetInt32());
        Assert.Contains(account.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("larger than --max-size 10240 octets, though the server listed it at 0", StringComparison.Ordinal));
        Assert.Equal(FetchWorld.Describe([small]), FetchWorld.Describe(world.MaildirMessages()));
        Assert.Empty(Directory.GetFiles(Path.Combine(world.Maildir, "tmp")));
        Assert.Equal([big], world.Memory.Messages.Select(m => m.ToArray())); // kept on the server
    }

    [Fact]
    public async Task A_deleted_uidl_reused_by_another_message_without_a_message_id_is_delivered_not_deleted_unread()
    {
        byte[] first = Encoding.ASCII.GetBytes("Subject: first\n\nno id, body A\n");
        byte[] second = Encoding.ASCII.GetBytes("Subject: other\n\nno id, body B\n"); // same size, other bytes
        Assert.Equal(first.Length, second.Length);
        await using FetchWorld world = await FetchWorld.StartAsync([]);
        world.Memory.Add(first, "u1");
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir, "--delete")).ExitCode);
        Assert.Equal(0, world.Memory.Count);

        world.Memory.Add(second, "u1");
        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir, "--delete");
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Contains("other content", outcome.Error);
        Assert.Equal(FetchWorld.Describe([first, second]), FetchWorld.Describe(world.MaildirMessages()));
        Assert.Equal(0, world.Memory.Count);
    }

    [Fact]
    public async Task Switching_to_delete_never_deletes_a_message_that_reused_a_delivered_uidl()
    {
        byte[] first = Encoding.ASCII.GetBytes("Subject: first\n\nno id, body A\n");
        byte[] second = Encoding.ASCII.GetBytes("Subject: other\n\nno id, body B\n");
        await using FetchWorld world = await FetchWorld.StartAsync([]);
        world.Memory.Add(first, "u1");
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode); // keep mode

        // Another client deletes it; the server gives its UIDL to a new message of the same size.
        await using (Pop3Client other = await Pop3Client.ConnectAsync("127.0.0.1", world.Server.Port, new Pop3ClientOptions { AllowInsecureAuthentication = true }))
        {
            await other.LoginAsync(FetchWorld.User, FetchWorld.Password);
            await other.DeleAsync(1);
            await other.QuitAsync();
        }

        world.Memory.Add(second, "u1");
        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir, "--delete");
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Equal(FetchWorld.Describe([first, second]), FetchWorld.Describe(world.MaildirMessages()));
        Assert.Equal(0, world.Memory.Count);
    }

    [Fact]
    public async Task A_server_that_dribbles_its_replies_cannot_hold_a_run_past_max_run_time()
    {
        // Every reply comes within --timeout, but together they take far longer than the run may.
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1), FetchWorld.Message(2)], new DelayReplies(TimeSpan.FromMilliseconds(700)));
        var clock = Stopwatch.StartNew();
        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir, "--timeout", "2", "--max-run-time", "2s", "--delete");
        Assert.Equal(ExitCodes.TemporaryFailure, outcome.ExitCode);
        Assert.Contains("--max-run-time 2s", outcome.Error);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
        Assert.Equal(2, world.Memory.Count);

        // The lock was released: the next run (with time enough) goes on.
        world.Server.Faults = [];
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir, "--delete")).ExitCode);
        Assert.Equal(0, world.Memory.Count);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("5x")]
    [InlineData("-3m")]
    [InlineData("8d")]
    public async Task Max_run_time_must_be_a_duration(string value)
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir, "--max-run-time", value);
        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.Contains("--max-run-time: not a duration", outcome.Error);
        Assert.Equal(1, world.Memory.Count);
    }
}

/// <summary>A destination that delivers nowhere would make --delete lose mail: refused before connecting.</summary>
public class FetchDestinationValidationTests
{
    [Theory]
    [InlineData("--mda", "")]
    [InlineData("--mda", "   ")]
    [InlineData("--mda", "true")]
    [InlineData("--mda", ":")]
    [InlineData("--maildir", "")]
    [InlineData("--maildir", " ")]
    [InlineData("--mbox", "")]
    [InlineData("--mbox", "\t")]
    public async Task An_empty_blank_or_no_op_destination_is_a_usage_error_and_nothing_is_deleted(string option, string value)
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1), FetchWorld.Message(2)]);
        CliRunner.Outcome outcome = await world.FetchAsync(option, value, "--delete");
        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.StartsWith($"poplib: {option} ", outcome.Error);
        Assert.Equal(2, world.Memory.Count);
        Assert.False(File.Exists(world.State)); // refused before anything started
    }

    [Fact]
    public async Task A_maildir_that_is_a_file_and_an_mbox_that_is_a_folder_are_refused()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        string file = Path.Combine(world.Folder, "a-file");
        File.WriteAllText(file, "x");
        Assert.Equal(ExitCodes.Usage, (await world.FetchAsync("--maildir", file, "--delete")).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await world.FetchAsync("--mbox", world.Folder, "--delete")).ExitCode);
        Assert.Equal(1, world.Memory.Count);
    }

    [Theory]
    [InlineData("mda", "  ")]
    [InlineData("maildir", " ")]
    [InlineData("mda", "true")]
    public async Task The_config_file_refuses_them_too(string field, string value)
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        string config = Path.Combine(world.Folder, "fetch.json");
        File.WriteAllText(config, $$"""
            { "state": "{{world.State}}",
              "accounts": [ { "name": "one", "host": "127.0.0.1", "port": {{world.Server.Port}}, "security": "none", "allowInsecureAuth": true,
                              "user": "alice", "password": { "env": "{{FetchWorld.PasswordVariable}}" }, "policy": "delete", "{{field}}": "{{value}}" } ] }
            """);
        CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--config", config);
        Assert.Equal(ExitCodes.Config, outcome.ExitCode);
        Assert.Contains($"one: \"{field}\"", outcome.Error);
        Assert.Equal(1, world.Memory.Count);
    }
}

/// <summary>Errors name the paths the user gave, never poplib's scratch names inside them.</summary>
public class FetchPathMessagesTests
{
    [Fact]
    public async Task A_spool_folder_that_cannot_take_files_is_named_as_given()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        CliProcess.Outcome outcome = await CliProcess.RunAsync([.. world.ConnectionArgs(), "--state", world.State, "--mda", "cat >/dev/null", "--quiet"],
            environment: new Dictionary<string, string> { [FetchWorld.PasswordVariable] = FetchWorld.Password, ["TMPDIR"] = "/proc", ["DOTNET_EnableDiagnostics"] = "0" });
        Assert.Equal(ExitCodes.LocalIo, outcome.ExitCode);
        Assert.Contains("cannot create a spool file in /proc", outcome.Error);
        Assert.DoesNotContain(".poplib-spool", outcome.Error);
        Assert.Equal(1, world.Memory.Count);
    }
}
