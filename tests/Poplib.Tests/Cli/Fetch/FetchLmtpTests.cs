using Poplib.Cli;
using Poplib.Tests.Lmtp;

namespace Poplib.Tests.Cli.Fetch;

/// <summary><c>poplib fetch --lmtp</c> and the config's <c>"lmtp"</c>: delivery, failures, and every usage mistake caught before connecting.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class FetchLmtpTests
{
    [Fact]
    public async Task Fetch_delivers_over_LMTP_to_every_recipient_then_delete_empties_the_server()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1), FetchWorld.Tricky(2)]);
        await using var lmtp = new FakeLmtpServer();

        CliRunner.Outcome first = await world.FetchAsync("--lmtp", lmtp.Endpoint, "--lmtp-rcpt", "alice", "--lmtp-rcpt", "archive@example.org");
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Equal(["alice", "archive@example.org", "alice", "archive@example.org"], lmtp.Accepted.Select(a => a.Recipient));

        CliRunner.Outcome delete = await world.FetchAsync("--lmtp", lmtp.Endpoint, "--lmtp-rcpt", "alice", "--delete");
        Assert.True(delete.ExitCode == 0, delete.Error);
        Assert.Equal(4, lmtp.Accepted.Count);
        Assert.Equal(0, world.Memory.Count);
    }

    [Fact]
    public async Task An_unreachable_LMTP_server_is_a_local_failure_naming_it_and_nothing_is_deleted()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        int port;
        await using (var gone = new FakeLmtpServer())
            port = gone.Port;

        CliRunner.Outcome outcome = await world.FetchAsync("--lmtp", $"127.0.0.1:{port}", "--lmtp-rcpt", "alice", "--delete");

        Assert.Equal(ExitCodes.LocalIo, outcome.ExitCode);
        Assert.Contains($"127.0.0.1:{port}", outcome.Error);
        Assert.Equal(1, world.Memory.Count);
    }

    [Fact]
    public async Task A_4xx_exits_non_zero_keeps_the_message_and_the_next_run_delivers_it()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        await using var lmtp = new FakeLmtpServer { Reply = (n, _) => n == 1 ? "450 4.2.0 Mailbox locked" : "250 2.0.0 Saved" };

        CliRunner.Outcome deferred = await world.FetchAsync("--lmtp", lmtp.Endpoint, "--lmtp-rcpt", "alice", "--delete");
        Assert.NotEqual(0, deferred.ExitCode);
        Assert.Contains("Mailbox locked", deferred.Error + deferred.Out);
        Assert.Equal(1, world.Memory.Count);

        CliRunner.Outcome next = await world.FetchAsync("--lmtp", lmtp.Endpoint, "--lmtp-rcpt", "alice", "--delete");
        Assert.True(next.ExitCode == 0, next.Error);
        Assert.Single(lmtp.Accepted);
        Assert.Equal(0, world.Memory.Count);
    }

    [Theory]
    [InlineData("is not an LMTP address", "--lmtp", "")]
    [InlineData("is not an LMTP address", "--lmtp", "  ")]
    [InlineData("the port is missing", "--lmtp", "localhost", "--lmtp-rcpt", "a")]
    [InlineData("not a number from 1 to 65535", "--lmtp", "localhost:99999", "--lmtp-rcpt", "a")]
    [InlineData("must be absolute", "--lmtp", "unix:run/lmtp", "--lmtp-rcpt", "a")]
    [InlineData("give --lmtp-rcpt", "--lmtp", "localhost:24")]
    [InlineData("contains a space", "--lmtp", "localhost:24", "--lmtp-rcpt", "a b")]
    [InlineData("contains an LF", "--lmtp", "localhost:24", "--lmtp-rcpt", "a\nRCPT TO:<evil>")]
    [InlineData("contains a CR", "--lmtp", "localhost:24", "--lmtp-rcpt", "a\r")]
    [InlineData("contains '<'", "--lmtp", "localhost:24", "--lmtp-rcpt", "<a>")]
    [InlineData("--lmtp-rcpt goes with --lmtp", "--maildir", "/tmp/x", "--lmtp-rcpt", "a")]
    [InlineData("give one destination", "--maildir", "/tmp/x", "--lmtp", "localhost:24", "--lmtp-rcpt", "a")]
    public async Task Usage_mistakes_exit_2_before_connecting(string expected, params string[] args)
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);

        CliRunner.Outcome outcome = await world.FetchAsync(args);

        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.Contains(expected, outcome.Error);
        Assert.False(File.Exists(world.State));
    }

    [Fact]
    public async Task Help_describes_the_LMTP_options()
    {
        CliRunner.Outcome help = await CliRunner.RunAsync("fetch", "--help");
        Assert.Contains("--lmtp <lmtp>", help.Out);
        Assert.Contains("--lmtp-rcpt", help.Out);
        Assert.Contains("repeat the option", help.Out);
    }

    [Fact]
    public async Task The_config_names_the_LMTP_server_in_the_defaults_and_the_recipients_per_account()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1), FetchWorld.Message(2)]);
        await using var lmtp = new FakeLmtpServer();
        string config = FetchConfigTests.Write(world.Folder, $$"""
            {
              "state": "state/fetch.sqlite",
              "defaults": { "security": "none", "allowInsecureAuth": true, "password": { "env": "{{FetchWorld.PasswordVariable}}" }, "auth": "user", "lmtp": "{{lmtp.Endpoint}}" },
              "accounts": [ { "name": "one", "host": "127.0.0.1", "port": {{world.Server.Port}}, "user": "alice", "lmtpRecipients": ["alice@example.org", "copy"] } ]
            }
            """);

        CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--config", config);

        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Equal(4, lmtp.Accepted.Count);
        Assert.Equal(["alice@example.org", "copy"], lmtp.Accepted.Select(a => a.Recipient).Distinct());
    }

    [Theory]
    [InlineData("\"lmtp\": \"\", \"lmtpRecipients\": [\"a\"]", "one: \"lmtp\" must be a non-empty string")]
    [InlineData("\"lmtp\": \"  \", \"lmtpRecipients\": [\"a\"]", "one: \"lmtp\" '  ' is not an LMTP address")]
    [InlineData("\"lmtp\": \"host\", \"lmtpRecipients\": [\"a\"]", "the port is missing")]
    [InlineData("\"lmtp\": \"localhost:24\"", "has no recipient")]
    [InlineData("\"lmtp\": \"localhost:24\", \"lmtpRecipients\": [\"a b\"]", "contains a space")]
    [InlineData("\"lmtp\": \"localhost:24\", \"lmtpRecipients\": [7]", "\"lmtpRecipients\"")]
    [InlineData("\"maildir\": \"m\", \"lmtpRecipients\": [\"a\"]", "\"lmtpRecipients\" needs \"lmtp\"")]
    [InlineData("\"maildir\": \"m\", \"lmtp\": \"localhost:24\", \"lmtpRecipients\": [\"a\"]", "give exactly one destination")]
    public async Task Config_mistakes_are_config_errors_naming_the_file_and_account(string destination, string expected)
    {
        string folder = Path.Combine(Path.GetTempPath(), "poplib-lmtpcfg-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(folder);
        try
        {
            string config = FetchConfigTests.Write(folder, $$"""
                { "accounts": [ { "name": "one", "host": "127.0.0.1", "port": 1, "user": "alice", "password": { "env": "X" }, {{destination}} } ] }
                """);

            CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--config", config, "--state", Path.Combine(folder, "s.sqlite"));

            Assert.Equal(ExitCodes.Config, outcome.ExitCode);
            Assert.Contains(config, outcome.Error);
            Assert.Contains(expected, outcome.Error);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
