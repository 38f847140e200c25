using System.Text;
using Microsoft.Extensions.Configuration;
using Poplib.Cli;
using Poplib.Cli.Fetch;
using Poplib.Cli.Fetch.Config;
using Poplib.Fetch;
using Poplib.Fetch.Configuration;
using Poplib.Testing;

namespace Poplib.Tests.Fetch;

/// <summary>Options bound from IConfiguration give the accounts the CLI's config file gives.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ConfigurationBindingTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "poplib-binding-" + Guid.NewGuid().ToString("N")[..10]);

    public ConfigurationBindingTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Config => $$"""
        {
          "state": "{{_folder}}/state/fetch.sqlite",
          "parallel": 2,
          "defaults": { "security": "none", "allowInsecureAuth": true, "user": "alice", "password": { "env": "POPLIB_BINDING_TEST_PW" }, "policy": "delete", "maxSize": "10M", "timeout": 30 },
          "accounts": [
            { "name": "one", "host": "Mail.Example.org", "port": 1110, "maildir": "{{_folder}}/one", "onUidlReset": "mark-seen", "batch": 8 },
            { "name": "two", "host": "pop.example.net", "security": "tls", "mbox": "{{_folder}}/two.mbox", "policy": "keep", "maxRunTime": "2h", "oversize": "headers" },
            { "name": "three", "host": "h3", "security": "starttls", "user": "bob", "mda": "procmail -d bob", "limit": 5, "maxSize": 1048576 },
            { "name": "off", "host": "h4", "maildir": "{{_folder}}/off", "enabled": false },
            { "name": "four", "host": "h5", "lmtp": "unix:/run/dovecot/lmtp", "lmtpRecipients": ["carol", "archive@example.org"] }
          ]
        }
        """;

    [Fact]
    public void Binding_the_config_files_shape_yields_the_accounts_the_CLI_reads_from_it()
    {
        string file = Path.Combine(_folder, "fetch.json");
        File.WriteAllText(file, Config);
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var console = new CliConsole(TextWriter.Null, TextWriter.Null, TextReader.Null, () => Stream.Null, isTerminal: false);
        FetchAccount[] fromCli = [.. FetchConfig.Load(file, console, 0).Accounts.Select(a => a.ToFetchAccount("pw", console))];

        IConfiguration configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes($$"""{ "Pop3Fetch": {{Config}} }""")))
            .Build();
        FetchConfigurationOptions options = configuration.GetSection("Pop3Fetch").Get<FetchConfigurationOptions>()!;
        IReadOnlyList<FetchAccount> bound = options.ToAccounts();

        Assert.Equal($"{_folder}/state/fetch.sqlite", options.State);
        Assert.Equal(2, options.Parallel);
        Assert.Equal(["one", "two", "three", "four"], bound.Select(a => a.Name));
        Assert.Equal(fromCli.Length, bound.Count);
        for (int i = 0; i < bound.Count; i++)
        {
            FetchAccount cli = fromCli[i], library = bound[i];
            Assert.Equal(cli.Name, library.Name);
            Assert.Equal(cli.Host, library.Host);
            Assert.Equal(cli.EffectivePort, library.EffectivePort);
            Assert.Equal(cli.Tls, library.Tls);
            Assert.Equal(cli.User, library.User);
            Assert.Equal(cli.Key, library.Key);
            Assert.Equal(cli.Policy, library.Policy);
            Assert.Equal(cli.Destination.ToString(), library.Destination.ToString());
            Assert.Equal(cli.SecretVariables, library.SecretVariables);
        }

        // The values themselves, not only their agreement.
        Assert.Equal(new AccountKey("alice", "mail.example.org", 1110), bound[0].Key);
        Assert.Equal(new FetchPolicy { Delete = true, MaxSize = 10 * 1024 * 1024, OnUidlReset = UidlResetAction.MarkSeen, BatchSize = 8 }, bound[0].Policy);
        Assert.Equal($"maildir:{_folder}/one", bound[0].Destination.ToString());
        Assert.Equal(TimeSpan.FromSeconds(30), bound[0].ClientOptions!.Timeout);
        Assert.True(bound[0].ClientOptions!.AllowInsecureAuthentication);
        Assert.Equal(FetchTls.Implicit, bound[1].Tls);
        Assert.Equal(995, bound[1].EffectivePort);
        Assert.Equal(new FetchPolicy { MaxSize = 10 * 1024 * 1024, Oversize = OversizeAction.Headers, MaxRunTime = TimeSpan.FromHours(2) }, bound[1].Policy);
        Assert.Equal(new AccountKey("bob", "h3", 110), bound[2].Key);
        Assert.Equal(new FetchPolicy { Delete = true, MaxSize = 1048576, Limit = 5 }, bound[2].Policy);
        Assert.Equal("mda:procmail -d bob", bound[2].Destination.ToString());
        Assert.Equal("lmtp:unix:/run/dovecot/lmtp (carol, archive@example.org)", bound[3].Destination.ToString());
    }

    [Fact]
    public async Task A_bound_account_reads_its_password_from_the_environment_and_an_application_sink_fills_in_for_a_missing_destination()
    {
        Environment.SetEnvironmentVariable("POPLIB_BINDING_TEST_PW", "from-env");
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pop3Fetch:accounts:0:host"] = "pop.example.org",
            ["Pop3Fetch:accounts:0:user"] = "carol",
            ["Pop3Fetch:accounts:0:password:env"] = "POPLIB_BINDING_TEST_PW",
            ["Pop3Fetch:accounts:0:sinkTimeout"] = "90s",
        }).Build();
        FetchDestination sink = FetchDestination.Sink(new RecordingSink());

        FetchAccount account = Assert.Single(configuration.GetSection("Pop3Fetch").Get<FetchConfigurationOptions>()!.ToAccounts(destination: sink));

        Assert.Same(sink, account.Destination);
        Assert.Equal("from-env", await account.Password(CancellationToken.None));
        Assert.Equal(TimeSpan.FromSeconds(90), account.Policy.SinkTimeout);
        Assert.Equal(["POPLIB_BINDING_TEST_PW"], account.SecretVariables);
    }

    [Theory]
    [InlineData("auto", true)]
    [InlineData("user", true)]
    [InlineData("plain", false)] // the server takes no AUTH: the named method is used, not another
    public async Task A_bound_account_trusts_its_caFile_and_logs_in_by_its_auth_method(string auth, bool succeeds)
    {
        await using Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.Implicit, Faults = [new CommandNotSupported("SASL"), new CommandNotSupported("AUTH")] });
        server.AddUser("alice", "bound-secret", Pop3Mailbox.FromMessages([Encoding.ASCII.GetBytes("Subject: one\r\n\r\nbody\r\n")]));
        string ca = Path.Combine(_folder, "ca.pem");
        File.WriteAllText(ca, server.Certificate.ExportCertificatePem());
        Environment.SetEnvironmentVariable("POPLIB_BINDING_TLS_PW", "bound-secret");

        FetchAccount Bound(string? caFile) => Assert.Single(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["accounts:0:host"] = "localhost",
            ["accounts:0:port"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["accounts:0:user"] = "alice",
            ["accounts:0:password:env"] = "POPLIB_BINDING_TLS_PW",
            ["accounts:0:auth"] = auth,
            ["accounts:0:caFile"] = caFile,
            ["accounts:0:maildir"] = Path.Combine(_folder, "mail-" + auth),
        }).Build().Get<FetchConfigurationOptions>()!.ToAccounts());

        using var state = Poplib.Fetch.State.SqliteFetchStateStore.Open(Path.Combine(_folder, "state", auth + ".sqlite"));
        FetchException untrusted = await Assert.ThrowsAsync<FetchException>(() => new Fetcher(Bound(caFile: null), state).RunAsync());
        Assert.Equal(FetchFailure.Tls, untrusted.Failure);

        if (succeeds)
        {
            FetchResult result = await new Fetcher(Bound(ca), state).RunAsync();
            Assert.Equal(1, result.Delivered);
        }
        else
        {
            FetchException refused = await Assert.ThrowsAsync<FetchException>(() => new Fetcher(Bound(ca), state).RunAsync());
            Assert.NotEqual(FetchFailure.Tls, refused.Failure);
            Assert.Contains("AUTH", refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_bound_account_checks_its_tlsFingerprints_in_addition_to_its_caFile()
    {
        await using Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.Implicit });
        server.AddUser("alice", "pinned-secret", Pop3Mailbox.FromMessages([Encoding.ASCII.GetBytes("Subject: one\r\n\r\nbody\r\n")]));
        string ca = Path.Combine(_folder, "pinned-ca.pem");
        File.WriteAllText(ca, server.Certificate.ExportCertificatePem());
        Environment.SetEnvironmentVariable("POPLIB_BINDING_PIN_PW", "pinned-secret");
        string right = CertificatePin.ForPublicKey(server.Certificate).ToString();
        string wrong = CertificatePin.ForCertificate(Poplib.Tests.Infrastructure.TestPki.Shared.Issue("localhost")).ToString();

        FetchAccount Bound(string? caFile, string pin) => Assert.Single(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["defaults:tlsFingerprints:0"] = wrong,
            ["accounts:0:host"] = "localhost",
            ["accounts:0:port"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["accounts:0:user"] = "alice",
            ["accounts:0:password:env"] = "POPLIB_BINDING_PIN_PW",
            ["accounts:0:caFile"] = caFile,
            ["accounts:0:tlsFingerprints:0"] = pin,
            ["accounts:0:maildir"] = Path.Combine(_folder, "mail-pinned"),
        }).Build().Get<FetchConfigurationOptions>()!.ToAccounts());

        using var state = Poplib.Fetch.State.SqliteFetchStateStore.Open(Path.Combine(_folder, "state", "pinned.sqlite"));
        // A pin alone does not make a self-signed certificate trusted, and a wrong pin refuses a trusted one.
        FetchException untrusted = await Assert.ThrowsAsync<FetchException>(() => new Fetcher(Bound(null, right), state).RunAsync());
        Assert.Equal(FetchFailure.Tls, untrusted.Failure);
        FetchException mismatch = await Assert.ThrowsAsync<FetchException>(() => new Fetcher(Bound(ca, wrong), state).RunAsync());
        Assert.Equal(FetchFailure.Tls, mismatch.Failure);
        Assert.Equal(Pop3CertificateFailure.PinMismatch, Assert.IsType<Pop3CertificateException>(mismatch.InnerException).Reason);

        FetchAccount pinned = Bound(ca, right);
        Assert.Equal([CertificatePin.Parse(right)], pinned.ClientOptions!.PinnedCertificates);
        Assert.Equal(1, (await new Fetcher(pinned, state).RunAsync()).Delivered);
    }

    [Theory]
    [InlineData("security", "ssl", "\"security\" must be tls, starttls or none")]
    [InlineData("onUidlReset", "maybe", "\"onUidlReset\" must be one of")]
    [InlineData("maxSize", "huge", "\"maxSize\" must be a size")]
    [InlineData("maxRunTime", "forever", "\"maxRunTime\" must be a duration")]
    [InlineData("mda", " ", "\"mda\" is empty")]
    [InlineData("lmtp", " ", "\"lmtp\" ' ' is not an LMTP address")]
    [InlineData("lmtp", "localhost", "the port is missing")]
    [InlineData("lmtp", "localhost:24", "has no recipient")]
    [InlineData("lmtpRecipients:0", "a", "\"lmtpRecipients\" needs \"lmtp\"")]
    [InlineData("auth", "kerberos", "\"auth\": unknown login method \"kerberos\"")]
    [InlineData("insecureSkipVerify", "true", "\"insecureSkipVerify\" is not taken here")]
    [InlineData("caFile", "/nonexistent/ca.pem", "\"caFile\": cannot use /nonexistent/ca.pem")]
    [InlineData("tlsFingerprints:0", "sha256:nope", "\"tlsFingerprints\": 'sha256:nope' is not a certificate fingerprint")]
    public void Mistakes_are_Configuration_failures_naming_the_account_and_the_key(string key, string value, string expected)
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["accounts:0:name"] = "work",
            ["accounts:0:host"] = "pop.example.org",
            ["accounts:0:user"] = "carol",
            ["accounts:0:password:env"] = "X",
            ["accounts:0:maildir"] = key is "mda" or "lmtp" ? null : "/tmp/m",
            [$"accounts:0:{key}"] = value,
        }).Build();

        FetchException failed = Assert.Throws<FetchException>(() => configuration.Get<FetchConfigurationOptions>()!.ToAccounts());

        Assert.Equal(FetchFailure.Configuration, failed.Failure);
        Assert.StartsWith("work: ", failed.Message, StringComparison.Ordinal);
        Assert.Contains(expected, failed.Message, StringComparison.Ordinal);
    }
}
