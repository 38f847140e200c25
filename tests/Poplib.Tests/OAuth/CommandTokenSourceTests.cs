using System.Diagnostics;
using Poplib.Cli;
using Poplib.Fetch.OAuth;
using Poplib.Testing;
using Poplib.Tests.Cli;
using Poplib.Tests.Cli.Fetch;

namespace Poplib.Tests.OAuth;

/// <summary>
/// <see cref="CommandOAuth2TokenSource"/>: a command that prints the access token, run again after the
/// server refused one, against <see cref="Pop3TestServer"/> checking tokens; its failures are clear and
/// never show what it printed; and the CLI's <c>--auth xoauth2 --password-command</c> and a config's
/// <c>password.command</c> use it.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CommandTokenSourceTests : IAsyncLifetime
{
    private const string Good = "ya29.good-token_0123456789";
    private const string Stale = "ya29.stale-token_9876543210";

    private readonly string _folder = Directory.CreateTempSubdirectory("poplib-token-command-").FullName;
    private Pop3TestServer _server = null!;
    private readonly List<string> _offered = [];

    public async Task InitializeAsync()
    {
        _server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions
        {
            Tls = Pop3TlsMode.None,
            SaslMechanisms = Pop3SaslMechanisms.XOAuth2,
            AccessTokenValidator = (_, token) =>
            {
                lock (_offered)
                    _offered.Add(token);
                return token == Good;
            },
        });
        _server.AddUser("alice", "unused", Pop3Mailbox.FromMessages([FetchWorld.Message(1)]));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    // Prints the stale token the first time, the good one (with CR LF, as a Windows-minded helper might) after.
    // The tokens are in files, as a helper's are, so that the command line does not hold them.
    private string StaleThenGood()
    {
        File.WriteAllText(Path.Combine(_folder, "stale"), Stale + "\n");
        File.WriteAllText(Path.Combine(_folder, "good"), Good + "\r\n");
        return $"cd '{_folder}' && if [ -e ran ]; then cat good; else touch ran; cat stale; fi";
    }

    private string[] Offered()
    {
        lock (_offered)
            return [.. _offered];
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refused_token_makes_the_command_run_again_and_its_second_token_logs_in(bool async)
    {
        var tokens = new CommandOAuth2TokenSource(StaleThenGood());
        await using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", _server.Port, new Pop3ClientOptions { AllowInsecureAuthentication = true });
        if (async)
            await client.LoginAsync("alice", tokens, "XOAUTH2");
        else
            client.Login("alice", tokens, "XOAUTH2");

        Assert.Equal(Pop3SessionState.Transaction, client.State);
        Assert.Equal([Stale, Good], Offered());
        Assert.Equal(2, tokens.RunCount);
        Assert.DoesNotContain(Good, tokens.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_token_is_the_line_without_its_newline(bool async)
    {
        File.WriteAllText(Path.Combine(_folder, "good"), Good + "\n");
        var tokens = new CommandOAuth2TokenSource($"cat '{_folder}/good'");
        OAuth2AccessToken token = async ? await tokens.GetAccessTokenAsync() : tokens.GetAccessToken();
        Assert.Equal(Good, token.Value);
        Assert.True(tokens.Invalidate(token));
        // A helper that hands out the refused token again is told so, rather than being refused twice.
        OAuth2Exception again = await Assert.ThrowsAsync<OAuth2Exception>(() => Get(tokens, async));
        Assert.Contains("the server has just refused", again.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Good, again.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, bool> Failures => new()
    {
        { "echo secret-on-stderr-123 >&2; echo secret-on-stdout-456; exit 3", "failed with exit status 3", false },
        { "echo secret-on-stderr-123 >&2; echo secret-on-stdout-456; exit 3", "failed with exit status 3", true },
        { "true", "printed nothing", false },
        { "printf '\\n'", "printed nothing", true },
        { "printf 'secret-on-stdout-456\\nsecond-line\\n'", "printed more than a token", false },
        { "printf 'secret-on-stdout-456\\r\\r\\n'", "printed more than a token", true },
        { "printf 'secret-on stdout-456'", "printed more than a token", false },
        { "head -c 100000 /dev/zero | tr '\\0' s", "printed more than 64 KiB", true },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task A_failing_command_is_a_clear_error_without_what_it_printed(string command, string expected, bool async)
    {
        var tokens = new CommandOAuth2TokenSource(command, TimeSpan.FromSeconds(20));
        OAuth2Exception failure = await Assert.ThrowsAsync<OAuth2Exception>(() => Get(tokens, async));
        Assert.Contains("the access token command " + expected, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-on-", failure.Message.Replace(command, "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("sssss", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_command_that_hangs_is_killed_at_its_timeout(bool async)
    {
        string pidFile = Path.Combine(_folder, "pid");
        var tokens = new CommandOAuth2TokenSource($"echo $$ > '{pidFile}'; exec sleep 60", TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();
        OAuth2Exception failure = await Assert.ThrowsAsync<OAuth2Exception>(() => Get(tokens, async));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(15));
        Assert.Contains("did not finish within 1 s", failure.Message, StringComparison.Ordinal);
        int pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        // Killed, not left behind: give the kernel a moment to reap it.
        for (int i = 0; i < 50 && IsRunning(pid); i++)
            await Task.Delay(100);
        Assert.False(IsRunning(pid), "the timed-out command still runs");
    }

    [Fact]
    public async Task Cancelling_kills_the_command()
    {
        var tokens = new CommandOAuth2TokenSource("exec sleep 60");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tokens.GetAccessTokenAsync(cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task Cli_auth_xoauth2_with_password_command_runs_the_command_again_after_a_refusal()
    {
        CliRunner.Outcome stat = await CliRunner.RunAsync("stat", "--host", "127.0.0.1", "--port", _server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--user", "alice", "--auth", "xoauth2", "--allow-insecure-auth", "--password-command", StaleThenGood());
        Assert.True(stat.ExitCode == 0, stat.Error);
        Assert.StartsWith("1 messages", stat.Out, StringComparison.Ordinal);
        Assert.Equal([Stale, Good], Offered());
        Assert.DoesNotContain(Good, stat.Out + stat.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_a_failing_token_command_is_an_error_without_its_output()
    {
        CliRunner.Outcome stat = await CliRunner.RunAsync("stat", "--host", "127.0.0.1", "--port", _server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--user", "alice", "--auth", "xoauth2", "--allow-insecure-auth", "--password-command", $"echo {Good.ToUpperInvariant()}; exit 2");
        Assert.NotEqual(0, stat.ExitCode);
        Assert.Contains("the access token command failed with exit status 2", stat.Error, StringComparison.Ordinal);
        Assert.Single(stat.Error.Split(Good.ToUpperInvariant()).Skip(1)); // the command line only, not its output too
        Assert.Empty(Offered());
    }

    [Fact]
    public async Task Config_account_with_xoauth2_and_password_command_fetches_after_a_refused_token()
    {
        string config = FetchConfigTests.Write(_folder, $$"""
            {
              "state": "state/fetch.sqlite",
              "accounts": [
                {
                  "name": "work", "host": "127.0.0.1", "port": {{_server.Port}}, "user": "alice", "security": "none", "allowInsecureAuth": true,
                  "auth": "xoauth2", "password": { "command": "{{StaleThenGood().Replace("\\", "\\\\", StringComparison.Ordinal)}}" },
                  "maildir": "work", "policy": "keep"
                }
              ]
            }
            """);
        CliRunner.Outcome fetch = await CliRunner.RunAsync("fetch", "--config", config);
        Assert.True(fetch.ExitCode == 0, fetch.Error + fetch.Out);
        Assert.Single(Directory.GetFiles(Path.Combine(_folder, "work", "new")));
        Assert.Equal([Stale, Good], Offered());
        Assert.DoesNotContain(Good, fetch.Out + fetch.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Stale, fetch.Out + fetch.Error, StringComparison.Ordinal);
    }

    private static Task<OAuth2AccessToken> Get(CommandOAuth2TokenSource tokens, bool async) =>
        async ? tokens.GetAccessTokenAsync() : Task.Run(() => tokens.GetAccessToken());

    private static bool IsRunning(int pid)
    {
        // A zombie (reaped later by its parent) no longer runs.
        string stat = $"/proc/{pid}/stat";
        return File.Exists(stat) && !File.ReadAllText(stat).Contains(") Z ", StringComparison.Ordinal);
    }
}
