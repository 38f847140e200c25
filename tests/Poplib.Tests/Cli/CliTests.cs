using System.Text;
using System.Text.Json;
using Poplib.Cli;
using Poplib.Cli.Connection;
using Poplib.Tests.Infrastructure;
using Poplib.Tests.Interop;

namespace Poplib.Tests.Cli;

/// <summary>The CLI's parsing and error handling, without a server.</summary>
public class CliParsingTests
{
    [Theory]
    [InlineData("pop://alice@mail.example.org", "mail.example.org", null, "alice", null, false)]
    [InlineData("pops://alice;AUTH=SCRAM-SHA-256@mail.example.org:1995", "mail.example.org", 1995, "alice", "SCRAM-SHA-256", true)]
    [InlineData("pop://mail.example.org:2110/", "mail.example.org", 2110, null, null, false)]
    [InlineData("pop://al%40ice@host", "host", null, "al@ice", null, false)]
    public void Pop_urls_parse(string text, string host, int? port, string? user, string? auth, bool tls) =>
        Assert.Equal(new PopUrl(host, port, user, auth, tls), PopUrl.Parse(text));

    [Theory]
    [InlineData("pop://alice:secret@host", "password in the URL")]
    [InlineData("imap://host", "not a POP URL")]
    [InlineData("pop://host/INBOX", "no path")]
    public void Bad_urls_are_usage_errors(string text, string message)
    {
        var error = Assert.Throws<CliException>(() => PopUrl.Parse(text));
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Bare_urls_become_url_options_wherever_they_stand() =>
        Assert.Equal(["retr", "3", "--url", "pops://bob@host", "-o", "x"], CliApp.NameBareUrls(["retr", "3", "pops://bob@host", "-o", "x"]));

    [Fact]
    public void Option_values_and_tokens_after_double_dash_stay_as_they_are()
    {
        Assert.Equal(["stat", "--password-file", "pop://odd-name"], CliApp.NameBareUrls(["stat", "--password-file", "pop://odd-name"]));
        Assert.Equal(["stat", "--ssl", "--url", "pops://h"], CliApp.NameBareUrls(["stat", "--ssl", "pops://h"]));
        Assert.Equal(["stat", "--", "pop://h"], CliApp.NameBareUrls(["stat", "--", "pop://h"]));
    }

    [Theory]
    [InlineData("pop://us%3Ber@host", "us;er", null)]
    [InlineData("pop://bob;AUTH=*@host", "bob", "*")]
    [InlineData("pop://bob;AUTH=+APOP@host", "bob", "+APOP")]
    public void Escaped_user_names_and_rfc2384_auth_values(string text, string user, string? auth)
    {
        PopUrl url = PopUrl.Parse(text);
        Assert.Equal(user, url.User);
        Assert.Equal(auth, url.Auth);
    }

    [Fact]
    public async Task Dele_asks_before_connecting()
    {
        // Nothing listens on port 1: a "cannot connect" would mean it connected before asking.
        CliRunner.Outcome outcome = await CliRunner.RunAsync("dele", "1", "--host", "127.0.0.1", "--port", "1", "--user", "bob", "--password-env", "PATH");
        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.Contains("confirmation", outcome.Error);
    }

    [Theory]
    [InlineData("-ERR [IN-USE] Mailbox locked", ExitCodes.TemporaryFailure)]
    [InlineData("-ERR [SYS/TEMP] Try again", ExitCodes.TemporaryFailure)]
    [InlineData("-ERR [AUTH] Wrong password", ExitCodes.Authentication)]
    public async Task Login_refusals_tell_retry_later_from_wrong_credentials(string reply, int expected)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("USER").On("USER alice", "+OK").On("PASS secret", reply));
        Environment.SetEnvironmentVariable("POPLIB_TEST_PW", "secret");
        CliRunner.Outcome outcome = await CliRunner.RunAsync("stat", "--host", "127.0.0.1", "--port", server.Port.ToString(),
            "--user", "alice", "--password-env", "POPLIB_TEST_PW", "--auth", "user", "--allow-insecure-auth");
        Assert.Equal(expected, outcome.ExitCode);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("cram-md5")]
    [InlineData("apop")]
    public async Task A_plain_text_login_is_refused_with_the_options_that_fix_it(string method)
    {
        await using var server = ScriptedServer.Start(s => s.Greet("+OK ready <1.2@host>").Capa("SASL CRAM-MD5", "STLS"));
        Environment.SetEnvironmentVariable("POPLIB_TEST_PW", "secret");
        // --no-starttls: otherwise poplib takes the STLS the server offers.
        CliRunner.Outcome outcome = await CliRunner.RunAsync("stat", "--host", "127.0.0.1", "--port", server.Port.ToString(),
            "--user", "alice", "--password-env", "POPLIB_TEST_PW", "--auth", method, "--no-starttls");
        Assert.Equal(ExitCodes.Authentication, outcome.ExitCode);
        Assert.Contains("--starttls", outcome.Error);
        Assert.Contains("--allow-insecure-auth", outcome.Error);
        Assert.DoesNotContain("AllowInsecureAuthentication", outcome.Error); // the CLI speaks in options
        await server.VerifyAsync();
        Assert.Equal(["CAPA"], server.Received);
    }

    [Fact]
    public async Task Stls_is_taken_whenever_offered_and_a_refusal_stops_the_command()
    {
        await using var server = ScriptedServer.Start(s => s.Greet("+OK ready <1.2@host>").Capa("USER", "STLS").On("STLS", "-ERR [SYS/TEMP] not now"));
        Environment.SetEnvironmentVariable("POPLIB_TEST_PW", "secret");
        CliRunner.Outcome outcome = await CliRunner.RunAsync("stat", "--host", "127.0.0.1", "--port", server.Port.ToString(),
            "--user", "alice", "--password-env", "POPLIB_TEST_PW", "--allow-insecure-auth");
        Assert.Equal(ExitCodes.ServerError, outcome.ExitCode);
        Assert.Contains("offered STLS but refused it", outcome.Error);
        Assert.Contains("--no-starttls", outcome.Error);
        await server.VerifyAsync();
        Assert.Equal(["CAPA", "STLS"], server.Received); // never the password in plain text after a failed STLS
    }

    [Theory]
    [InlineData(new[] { "stat", "--bogus" }, "Unrecognized")]
    [InlineData(new[] { "stat", "--host", "h", "--starttls", "--no-starttls" }, "exclude each other")]
    [InlineData(new[] { "stat" }, "no server")]
    [InlineData(new[] { "stat", "--host", "h", "--ssl", "--starttls" }, "exclude each other")]
    [InlineData(new[] { "stat", "--host", "h", "--port", "70000" }, "between 1 and 65535")]
    [InlineData(new[] { "stat", "--host", "127.0.0.1", "--user", "bob" }, "no password")]
    [InlineData(new[] { "stat", "--host", "127.0.0.1", "--user", "bob", "--password-env", "POPLIB_TEST_UNSET_VARIABLE" }, "not set")]
    [InlineData(new[] { "retr", "--host", "h" }, "Required argument missing")]
    [InlineData(new[] { "stat", "--host", "h", "--timeout", "1e300" }, "--timeout")]
    public async Task Usage_errors_exit_2_with_one_clear_line(string[] args, string message)
    {
        CliRunner.Outcome outcome = await CliRunner.RunAsync(args);
        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.Contains(message, outcome.Error);
        Assert.DoesNotContain("   at ", outcome.Error);
    }

    [Fact]
    public async Task Connection_refused_exits_3()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        CliRunner.Outcome outcome = await CliRunner.RunAsync("capa", "--host", "127.0.0.1", "--port", port.ToString());
        Assert.Equal(ExitCodes.Connection, outcome.ExitCode);
        Assert.StartsWith("poplib: cannot connect", outcome.Error);
    }

    [Fact]
    public async Task Server_errors_and_protocol_errors_have_their_own_codes()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().On("RETR 7", "-ERR no such message"));
        Environment.SetEnvironmentVariable("POPLIB_TEST_PW", "secret");
        CliRunner.Outcome refused = await CliRunner.RunAsync("retr", "7", "--host", "127.0.0.1", "--port", server.Port.ToString(),
            "--user", "alice", "--password-env", "POPLIB_TEST_PW", "--auth", "user", "--allow-insecure-auth");
        Assert.Equal(ExitCodes.ServerError, refused.ExitCode);
        Assert.Contains("no such message", refused.Error);

        await using var broken = ScriptedServer.Start(s => s.Send("* OK IMAP4rev1 ready"));
        CliRunner.Outcome protocol = await CliRunner.RunAsync("capa", "--host", "127.0.0.1", "--port", broken.Port.ToString());
        Assert.Equal(ExitCodes.Protocol, protocol.ExitCode);
    }
}

/// <summary>Every CLI command against Dovecot.</summary>
[Collection(nameof(DovecotCollection))]
public class CliDovecotTests(DovecotFixture fixture)
{
    private DovecotInstance Dovecot => fixture.Server;

    private (string User, string[] Common) Account(byte[][] messages)
    {
        var (user, password) = Dovecot.AddUser(messages);
        string variable = "POPLIB_TEST_" + user.ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, password);
        string caFile = Path.Combine(Dovecot.Directory, "cert.pem");
        return (user, [$"pops://{user}@localhost:{Dovecot.TlsPort}", "--ca-file", caFile, "--password-env", variable]);
    }

    [DovecotFact]
    public async Task Capa_table_and_json()
    {
        string caFile = Path.Combine(Dovecot.Directory, "cert.pem");
        CliRunner.Outcome table = await CliRunner.RunAsync("capa", "--host", "localhost", "--port", Dovecot.PlainPort.ToString(), "--starttls", "--ca-file", caFile);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("SASL", table.Out);
        Assert.Contains("TLS: Tls", table.Out);

        CliRunner.Outcome json = await CliRunner.RunAsync("capa", "--host", "localhost", "--port", Dovecot.PlainPort.ToString(), "--json", "--no-starttls");
        using JsonDocument document = JsonDocument.Parse(json.Out);
        Assert.False(document.RootElement.GetProperty("tls").GetBoolean());
        Assert.True(document.RootElement.GetProperty("capabilities").TryGetProperty("STLS", out _));
        Assert.StartsWith("+OK", document.RootElement.GetProperty("greeting").GetString());
        Assert.Contains("\"greeting\": \"+OK", json.Out); // relaxed escaping: "+", "<" and ">" as they are

        // Neither --starttls nor --no-starttls: TLS all the same, since the server offers it.
        CliRunner.Outcome automatic = await CliRunner.RunAsync("capa", "--host", "localhost", "--port", Dovecot.PlainPort.ToString(), "--json", "--ca-file", caFile);
        using JsonDocument secured = JsonDocument.Parse(automatic.Out);
        Assert.True(secured.RootElement.GetProperty("tls").GetBoolean());
    }

    [DovecotFact]
    public async Task Stat_list_uidl_top_retr_dele_with_their_json_shapes()
    {
        byte[][] messages = [SampleMail.Message(1), SampleMail.Tricky(), SampleMail.Message(3)];
        var (_, common) = Account(messages);

        using (JsonDocument stat = JsonDocument.Parse((await CliRunner.RunAsync(["stat", "--json", .. common])).Out))
        {
            Assert.Equal(3, stat.RootElement.GetProperty("count").GetInt32());
            Assert.Equal(messages.Sum(m => m.Length), stat.RootElement.GetProperty("size").GetInt64());
        }

        using (JsonDocument list = JsonDocument.Parse((await CliRunner.RunAsync(["list", "--json", .. common])).Out))
        {
            Assert.Equal(messages.Select(m => (long)m.Length), list.RootElement.GetProperty("messages").EnumerateArray().Select(e => e.GetProperty("size").GetInt64()));
            Assert.Equal([1, 2, 3], list.RootElement.GetProperty("messages").EnumerateArray().Select(e => e.GetProperty("number").GetInt32()));
        }

        using (JsonDocument uidl = JsonDocument.Parse((await CliRunner.RunAsync(["uidl", "--json", .. common])).Out))
            Assert.Equal(3, uidl.RootElement.GetProperty("messages").EnumerateArray().Select(e => e.GetProperty("uid").GetString()).Distinct().Count());

        CliRunner.Outcome table = await CliRunner.RunAsync(["list", .. common]);
        Assert.Contains("OCTETS", table.Out);

        CliRunner.Outcome retr = await CliRunner.RunAsync(["retr", "2", .. common]);
        Assert.Equal(0, retr.ExitCode);
        Assert.Equal(messages[1], retr.Binary);

        CliRunner.Outcome top = await CliRunner.RunAsync(["top", "2", "0", .. common]);
        Assert.EndsWith("\r\n\r\n", Encoding.UTF8.GetString(top.Binary));

        string file = Path.Combine(Path.GetTempPath(), $"poplib-cli-{Guid.NewGuid():N}.eml");
        CliRunner.Outcome toFile = await CliRunner.RunAsync(["retr", "3", "-o", file, "--json", .. common]);
        using (JsonDocument saved = JsonDocument.Parse(toFile.Out))
            Assert.Equal(messages[2].Length, saved.RootElement.GetProperty("octets").GetInt64());
        Assert.Equal(messages[2], File.ReadAllBytes(file));
        File.Delete(file);

        CliRunner.Outcome unconfirmed = await CliRunner.RunAsync(["dele", "1", .. common]);
        Assert.Equal(ExitCodes.Usage, unconfirmed.ExitCode);

        using (JsonDocument deleted = JsonDocument.Parse((await CliRunner.RunAsync(["dele", "1", "3", "--yes", "--json", .. common])).Out))
            Assert.Equal([1, 3], deleted.RootElement.GetProperty("deleted").EnumerateArray().Select(e => e.GetInt32()));
        using (JsonDocument after = JsonDocument.Parse((await CliRunner.RunAsync(["stat", "--json", .. common])).Out))
            Assert.Equal(1, after.RootElement.GetProperty("count").GetInt32());
    }

    [DovecotFact]
    public async Task Wrong_password_exits_4_and_no_output_shows_the_password()
    {
        var (user, common) = Account([SampleMail.Message(1)]);
        Environment.SetEnvironmentVariable("POPLIB_TEST_WRONG", "not-the-password");
        CliRunner.Outcome outcome = await CliRunner.RunAsync("stat", $"pops://{user}@localhost:{Dovecot.TlsPort}", "--ca-file", common[2], "--password-env", "POPLIB_TEST_WRONG", "-vv");
        Assert.Equal(ExitCodes.Authentication, outcome.ExitCode);
        Assert.Contains("[AUTH]", outcome.Error);
        Assert.DoesNotContain("not-the-password", outcome.Error + outcome.Out);

        string password = Environment.GetEnvironmentVariable(common[4])!;
        CliRunner.Outcome verbose = await CliRunner.RunAsync(["stat", "-vv", "--auth", "plain", .. common]);
        Assert.Equal(0, verbose.ExitCode);
        Assert.Contains("C: AUTH PLAIN ****", verbose.Error);
        Assert.DoesNotContain(password, verbose.Error + verbose.Out);
    }

    [DovecotFact]
    public async Task Untrusted_certificate_exits_3_and_insecure_skip_verify_warns()
    {
        var (_, common) = Account([SampleMail.Message(1)]);
        CliRunner.Outcome rejected = await CliRunner.RunAsync("stat", common[0], "--password-env", common[4]);
        Assert.Equal(ExitCodes.Connection, rejected.ExitCode);
        Assert.Contains("TLS failed", rejected.Error);

        CliRunner.Outcome skipped = await CliRunner.RunAsync("stat", common[0], "--password-env", common[4], "--insecure-skip-verify");
        Assert.Equal(0, skipped.ExitCode);
        Assert.Contains("WARNING", skipped.Error);
    }

    [DovecotFact]
    public async Task Password_file_is_read_and_plain_text_login_needs_opt_in()
    {
        var (user, common) = Account([SampleMail.Message(1)]);
        string file = Path.Combine(Path.GetTempPath(), $"poplib-pw-{Guid.NewGuid():N}");
        File.WriteAllText(file, Environment.GetEnvironmentVariable(common[4]) + "\n");
        try
        {
            string[] plain = ["stat", "--host", "127.0.0.1", "--port", Dovecot.PlainPort.ToString(), "--user", user, "--password-file", file, "--no-starttls"];
            CliRunner.Outcome refused = await CliRunner.RunAsync([.. plain, "--auth", "user"]);
            Assert.Equal(ExitCodes.Authentication, refused.ExitCode);
            Assert.Contains("allow", refused.Error, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(0, (await CliRunner.RunAsync([.. plain, "--auth", "user", "--allow-insecure-auth"])).ExitCode);
            // SCRAM never sends the password, but its exchange can be cracked offline: opt in as well.
            CliRunner.Outcome scram = await CliRunner.RunAsync([.. plain, "--auth", "scram-sha-256"]);
            Assert.Equal(ExitCodes.Authentication, scram.ExitCode);
            Assert.Contains("--allow-insecure-auth", scram.Error);
            Assert.Equal(0, (await CliRunner.RunAsync([.. plain, "--auth", "scram-sha-256", "--allow-insecure-auth"])).ExitCode);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
