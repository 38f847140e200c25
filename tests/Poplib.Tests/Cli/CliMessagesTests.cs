using System.Net;
using System.Net.Sockets;
using Poplib.Cli;
using Poplib.Testing;

namespace Poplib.Tests.Cli;

/// <summary>Error messages as a new user meets them: one line that names what is wrong and says what to do.</summary>
public class CliMessagesTests
{
    private const string PasswordVariable = "POPLIB_MESSAGES_TEST_PW";

    [Fact]
    public async Task A_refused_connection_names_the_host_and_port()
    {
        int port = FreePort();
        CliRunner.Outcome outcome = await CliRunner.RunAsync("capa", "--host", "127.0.0.1", "--port", port.ToString());
        Assert.Equal(ExitCodes.Connection, outcome.ExitCode);
        Assert.Equal($"poplib: cannot connect to 127.0.0.1:{port}: connection refused\n", outcome.Error);
    }

    [Fact]
    public async Task Tls_from_the_first_byte_against_a_plain_port_says_to_use_pop_with_starttls()
    {
        await using Pop3TestServer server = await StartAsync(Pop3TlsMode.StartTls);
        CliRunner.Outcome outcome = await CliRunner.RunAsync("capa", $"pops://127.0.0.1:{server.Port}");
        Assert.Equal(ExitCodes.Connection, outcome.ExitCode);
        Assert.Contains($"TLS failed with 127.0.0.1:{server.Port}: the server did not answer in TLS", outcome.Error);
        Assert.Contains("use pop:// (without --ssl), with --starttls", outcome.Error);
    }

    [Fact]
    public async Task Starttls_against_an_implicit_tls_port_says_to_use_pops()
    {
        await using Pop3TestServer server = await StartAsync(Pop3TlsMode.Implicit);
        CliRunner.Outcome outcome = await CliRunner.RunAsync("capa", "--host", "127.0.0.1", "--port", server.Port.ToString(), "--starttls", "--timeout", "1");
        Assert.Equal(ExitCodes.Connection, outcome.ExitCode);
        Assert.Contains("use pops:// or --ssl", outcome.Error);
    }

    [Theory]
    [InlineData("--host", "other.example", "contradicts the URL's host")]
    [InlineData("--port", "999", "contradicts the URL's port")]
    [InlineData("--user", "bob", "contradicts the URL's user")]
    [InlineData("--ssl", null, "use pops://")]
    public async Task A_url_and_an_option_that_say_different_things_are_refused(string option, string? value, string message)
    {
        string[] args = value is null ? ["stat", "pop://alice@127.0.0.1:1", option] : ["stat", "pop://alice@127.0.0.1:1", option, value];
        CliRunner.Outcome outcome = await CliRunner.RunAsync(args);
        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.Contains(message, outcome.Error);
    }

    [Theory]
    [InlineData("retr", "0")]
    [InlineData("retr", "-1")]
    [InlineData("top", "0", "5")]
    [InlineData("dele", "3", "0", "--yes")]
    [InlineData("list", "-m", "0")]
    [InlineData("uidl", "0")]
    public async Task Impossible_message_numbers_are_refused_before_connecting(params string[] command)
    {
        // Nothing listens on the port: connecting first would say "cannot connect".
        CliRunner.Outcome outcome = await CliRunner.RunAsync([.. command, "--host", "127.0.0.1", "--port", FreePort().ToString(), "--user", "u", "--password-env", "PATH"]);
        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.StartsWith("poplib: '", outcome.Error);
        Assert.Contains("is not a message number: messages are numbered from 1", outcome.Error);
        Assert.DoesNotContain("Parameter", outcome.Error);
    }

    [Fact]
    public async Task Numbers_that_do_not_parse_are_explained_in_plain_words()
    {
        CliRunner.Outcome port = await CliRunner.RunAsync("stat", "--host", "h", "--port", "abc");
        Assert.StartsWith("poplib: --port: 'abc' is not a whole number\n", port.Error);
        CliRunner.Outcome tls = await CliRunner.RunAsync("serve", "--maildir", "/tmp", "--tls", "StartTls!");
        Assert.Contains("'none'", tls.Error);
        Assert.DoesNotContain("System.", port.Error + tls.Error);
        Assert.DoesNotContain("Poplib.Testing", tls.Error);
    }

    [Fact]
    public async Task A_ca_file_without_a_certificate_is_a_usage_error_naming_it()
    {
        string file = Path.GetTempFileName();
        File.WriteAllText(file, "not a certificate\n");
        try
        {
            CliRunner.Outcome outcome = await CliRunner.RunAsync("capa", "--host", "127.0.0.1", "--port", FreePort().ToString(), "--ssl", "--ca-file", file);
            Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
            Assert.Contains($"--ca-file {file} holds no certificate", outcome.Error);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Config_json_errors_give_the_line_and_column_from_1()
    {
        string file = Path.Combine(Path.GetTempPath(), $"poplib-bad-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, "{\n  \"accounts\": [\n    { \"name\": \"x\" \"host\": \"h\" }\n  ]\n}\n");
        try
        {
            CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--config", file);
            Assert.Equal(ExitCodes.Config, outcome.ExitCode);
            Assert.StartsWith($"poplib: {file}:3:19: not valid JSON: ", outcome.Error);
            Assert.DoesNotContain("LineNumber", outcome.Error);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Serve_on_a_busy_port_says_it_cannot_listen()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        int port = ((IPEndPoint)busy.LocalEndpoint).Port;
        Environment.SetEnvironmentVariable(PasswordVariable, "pw");
        string maildir = Directory.CreateTempSubdirectory("poplib-serve-busy-").FullName;
        try
        {
            CliRunner.Outcome outcome = await CliRunner.RunAsync("serve", "--maildir", maildir, "--port", port.ToString(), "--password-env", PasswordVariable);
            Assert.Equal(ExitCodes.Connection, outcome.ExitCode);
            Assert.Equal($"poplib: cannot listen on 127.0.0.1:{port}: address already in use (another server listens there)\n", outcome.Error);
        }
        finally
        {
            Directory.Delete(maildir, recursive: true);
        }
    }

    [Fact]
    public async Task A_file_that_cannot_be_written_is_named_as_given_not_by_its_temporary_name()
    {
        await using Pop3TestServer server = await StartAsync(Pop3TlsMode.None, "Subject: x\n\nbody\n"u8.ToArray());
        string missing = Path.Combine(Path.GetTempPath(), "poplib-no-such-folder-" + Guid.NewGuid().ToString("N"), "x.eml");
        CliRunner.Outcome outcome = await CliRunner.RunAsync(["retr", "1", "-o", missing, .. Login(server)]);
        Assert.Equal(ExitCodes.LocalIo, outcome.ExitCode);
        Assert.Equal($"poplib: cannot write {missing}: the folder {Path.GetDirectoryName(missing)} does not exist\n", outcome.Error);
    }

    [Fact]
    public async Task A_refused_dele_says_nothing_was_deleted_and_nothing_is()
    {
        await using Pop3TestServer server = await StartAsync(Pop3TlsMode.None, "Subject: 1\n\none\n"u8.ToArray(), "Subject: 2\n\ntwo\n"u8.ToArray());
        CliRunner.Outcome outcome = await CliRunner.RunAsync(["dele", "1", "999", "--yes", .. Login(server)]);
        Assert.Equal(ExitCodes.ServerError, outcome.ExitCode);
        Assert.Contains("refused to delete message 999", outcome.Error);
        Assert.EndsWith("; nothing was deleted\n", outcome.Error);
        CliRunner.Outcome stat = await CliRunner.RunAsync(["stat", .. Login(server)]);
        Assert.StartsWith("2 messages", stat.Out);
    }

    [Fact]
    public async Task List_and_uidl_take_the_message_number_as_an_argument_like_retr()
    {
        await using Pop3TestServer server = await StartAsync(Pop3TlsMode.None, "Subject: 1\n\none\n"u8.ToArray(), "Subject: 2\n\ntwo\n"u8.ToArray());
        CliRunner.Outcome list = await CliRunner.RunAsync(["list", "2", "--json", .. Login(server)]);
        Assert.True(list.ExitCode == 0, list.Error);
        Assert.Contains("\"number\": 2", list.Out);
        Assert.DoesNotContain("\"number\": 1", list.Out);
        CliRunner.Outcome uidl = await CliRunner.RunAsync(["uidl", "2", .. Login(server)]);
        Assert.True(uidl.ExitCode == 0, uidl.Error);
        Assert.Equal(2, uidl.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // header and one row
    }

    private static async Task<Pop3TestServer> StartAsync(Pop3TlsMode tls, params byte[][] messages)
    {
        Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = tls });
        server.AddUser("alice", "messages-secret", Pop3Mailbox.FromMessages(messages));
        Environment.SetEnvironmentVariable(PasswordVariable, "messages-secret");
        return server;
    }

    private static string[] Login(Pop3TestServer server) =>
        ["--host", "127.0.0.1", "--port", server.Port.ToString(), "--user", "alice", "--password-env", PasswordVariable, "--auth", "user", "--allow-insecure-auth"];

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

/// <summary>Options that work the same way in every command.</summary>
public class CliConsistencyTests
{
    [Fact]
    public async Task Retr_and_top_json_without_an_output_file_are_refused_before_connecting()
    {
        CliRunner.Outcome retr = await CliRunner.RunAsync("retr", "1", "--json", "--host", "127.0.0.1", "--port", "1", "--user", "u", "--password-env", "PATH");
        Assert.Equal(ExitCodes.Usage, retr.ExitCode);
        Assert.Contains("retr --json needs -o FILE", retr.Error);
        CliRunner.Outcome top = await CliRunner.RunAsync("top", "1", "0", "--json", "--host", "127.0.0.1", "--port", "1", "--user", "u", "--password-env", "PATH");
        Assert.Contains("top --json needs -o FILE", top.Error);
    }

    [Fact]
    public async Task The_password_can_come_from_a_command()
    {
        await using Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.None });
        server.AddUser("alice", "from-a-command", Pop3Mailbox.FromMessages(["Subject: 1\n\none\n"u8.ToArray()]));
        string[] login = ["--host", "127.0.0.1", "--port", server.Port.ToString(), "--user", "alice", "--auth", "user", "--allow-insecure-auth"];
        CliRunner.Outcome stat = await CliRunner.RunAsync(["stat", .. login, "--password-command", "printf 'from-a-command\\nsecond line\\n'"]);
        Assert.True(stat.ExitCode == 0, stat.Error);
        Assert.StartsWith("1 messages", stat.Out);
        CliRunner.Outcome both = await CliRunner.RunAsync(["stat", .. login, "--password-command", "echo x", "--password-env", "PATH"]);
        Assert.Equal(ExitCodes.Usage, both.ExitCode);
        CliRunner.Outcome failing = await CliRunner.RunAsync(["stat", .. login, "--password-command", "exit 3"]);
        Assert.Equal(ExitCodes.Usage, failing.ExitCode);
        Assert.Contains("failed with exit status 3", failing.Error);
    }
}
