using Poplib.Cli;
using Poplib.Cli.Output;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Cli;

/// <summary>
/// A hostile server's text must never reach the terminal as escape sequences: every server-derived
/// string the CLI prints (greeting, CAPA, -ERR text, UIDLs, fetch warnings) goes through one sanitiser.
/// </summary>
public class TerminalInjectionTests
{
    // Clear the screen, set the window title (OSC), ring the bell, a C1 CSI, and a right-to-left override.
    private const string Evil = "\u001b[2J\u001b]0;owned\u0007\u009b31m\u202Eevil";

    [Fact]
    public void The_sanitiser_escapes_controls_and_keeps_ordinary_text()
    {
        Assert.Equal("\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\u202eevil", TerminalText.Safe(Evil));
        Assert.Equal("Grüße, 日本, tab\\x09end", TerminalText.Safe("Grüße, 日本, tab\tend"));
        Assert.Same("plain", TerminalText.Safe("plain"));
    }

    [Fact]
    public async Task Capa_escapes_the_greeting_and_the_capabilities()
    {
        await using var server = ScriptedServer.Start(s => s.Greet("+OK ready " + Evil).Capa("USER", "X-EVIL " + Evil, "IMPLEMENTATION " + Evil).On("QUIT", "+OK"));
        CliRunner.Outcome outcome = await CliRunner.RunAsync("capa", "--host", "127.0.0.1", "--port", server.Port.ToString());
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Contains("\\x1b]0;owned", outcome.Out);
        AssertPrintable(outcome.Out + outcome.Error);
    }

    [Fact]
    public async Task Capa_json_escapes_them_as_json_does()
    {
        await using var server = ScriptedServer.Start(s => s.Greet("+OK ready " + Evil).Capa("USER", "X-EVIL " + Evil).On("QUIT", "+OK"));
        CliRunner.Outcome outcome = await CliRunner.RunAsync("capa", "--host", "127.0.0.1", "--port", server.Port.ToString(), "--json");
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Contains("\\u001B", outcome.Out);
        AssertPrintable(outcome.Out + outcome.Error);
    }

    [Fact]
    public async Task A_refused_login_is_reported_escaped()
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("USER").On("USER alice", "+OK").On("PASS secret", "-ERR [AUTH] no " + Evil));
        Environment.SetEnvironmentVariable("POPLIB_TEST_PW", "secret");
        CliRunner.Outcome outcome = await CliRunner.RunAsync("stat", "--host", "127.0.0.1", "--port", server.Port.ToString(),
            "--user", "alice", "--password-env", "POPLIB_TEST_PW", "--auth", "user", "--allow-insecure-auth", "-v");
        Assert.Equal(ExitCodes.Authentication, outcome.ExitCode);
        Assert.Contains("login failed", outcome.Error);
        AssertPrintable(outcome.Out + outcome.Error);
    }

    [Fact]
    public async Task A_malformed_reply_is_reported_escaped()
    {
        await using var server = ScriptedServer.Start(s => s.Send("* " + Evil));
        CliRunner.Outcome outcome = await CliRunner.RunAsync("capa", "--host", "127.0.0.1", "--port", server.Port.ToString());
        Assert.Equal(ExitCodes.Protocol, outcome.ExitCode);
        AssertPrintable(outcome.Out + outcome.Error);
    }

    [Fact]
    public async Task Fetch_warnings_and_errors_quote_the_server_escaped()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn()
            .On("LIST", "+OK", "1 120", ".")
            .On("UIDL", "+OK", "1 uid-1", ".")
            .On("RETR 1", "-ERR [SYS/TEMP] " + Evil)
            .On("QUIT", "+OK"));
        Environment.SetEnvironmentVariable("POPLIB_TEST_PW", "secret");
        string folder = Path.Combine(Path.GetTempPath(), "poplib-escape-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--host", "127.0.0.1", "--port", server.Port.ToString(),
                "--user", "alice", "--password-env", "POPLIB_TEST_PW", "--auth", "user", "--allow-insecure-auth",
                "--state", Path.Combine(folder, "state.sqlite"), "--maildir", Path.Combine(folder, "Maildir"));
            Assert.Contains("\\x1b]0;owned", outcome.Error);
            AssertPrintable(outcome.Out + outcome.Error);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void AssertPrintable(string output)
    {
        foreach (char c in output)
        {
            Assert.False(c is < ' ' and not ('\n' or '\r') || c is >= '\u007f' and <= '\u009f' || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069',
                $"U+{(int)c:X4} reached the terminal in: {output}");
        }
    }
}
