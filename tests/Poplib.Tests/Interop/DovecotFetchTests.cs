using System.Text;
using Poplib.Tests.Cli;
using Poplib.Tests.Cli.Fetch;

namespace Poplib.Tests.Interop;

/// <summary><c>poplib fetch</c> against a real Dovecot over verified TLS: the truth for keep and delete.</summary>
[Collection(nameof(DovecotCollection))]
public sealed class DovecotFetchTests(DovecotFixture fixture) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("poplib-dovecot-fetch-").FullName;

    private DovecotInstance Dovecot => fixture.Server;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task<CliRunner.Outcome> Fetch(string user, string password, params string[] args)
    {
        string ca = Path.Combine(_folder, "dovecot.pem");
        File.WriteAllText(ca, Dovecot.Certificate.ExportCertificatePem());
        string variable = "POPLIB_DOVECOT_PW_" + user;
        Environment.SetEnvironmentVariable(variable, password);
        return await CliRunner.RunAsync(["fetch", "--host", "127.0.0.1", "--port", Dovecot.TlsPort.ToString(), "--ssl", "--ca-file", ca,
            "--user", user, "--password-env", variable, "--state", Path.Combine(_folder, "state.sqlite"), .. args]);
    }

    private static IEnumerable<string> AsStored(IEnumerable<byte[]> messages) =>
        messages.Select(m => Encoding.UTF8.GetString(m).Replace("\r\n", "\n", StringComparison.Ordinal)).Order(StringComparer.Ordinal);

    [DovecotFact]
    public async Task Keep_mode_fetches_each_message_once_byte_exact_into_a_maildir()
    {
        byte[][] messages = [SampleMail.Message(1), SampleMail.Tricky(), SampleMail.LongLines(30_000, 3), SampleMail.Message(4, "From the start\r\n>From quoted\r\n")];
        var (user, password) = Dovecot.AddUser(messages);
        string maildir = Path.Combine(_folder, "Maildir");

        CliRunner.Outcome first = await Fetch(user, password, "--maildir", maildir, "--limit", "2");
        Assert.True(first.ExitCode == 0, first.Error);
        CliRunner.Outcome second = await Fetch(user, password, "--maildir", maildir);
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Contains("4 message(s) on the server, 2 to fetch", second.Out);
        CliRunner.Outcome third = await Fetch(user, password, "--maildir", maildir);
        Assert.Contains("4 message(s) on the server, 0 to fetch", third.Out);

        byte[][] delivered = [.. Directory.GetFiles(Path.Combine(maildir, "new")).Select(File.ReadAllBytes)];
        Assert.Equal(AsStored(messages), AsStored(delivered));
    }

    [DovecotFact]
    public async Task Delete_mode_empties_the_server_of_exactly_what_reached_the_mbox()
    {
        byte[][] messages = [SampleMail.Message(1), SampleMail.Tricky(), SampleMail.Message(3, "From me to you\r\n")];
        var (user, password) = Dovecot.AddUser(messages);
        string mbox = Path.Combine(_folder, "inbox.mbox");

        CliRunner.Outcome outcome = await Fetch(user, password, "--mbox", mbox, "--delete", "--batch", "2");
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Equal(AsStored(messages), AsStored(MboxReader.Read(File.ReadAllBytes(mbox))));

        using Pop3Client client = await Pop3Client.ConnectAsync(Dovecot.Host, Dovecot.PlainPort, Dovecot.Options(allowInsecure: true));
        await client.LoginAsync(user, password);
        Assert.Equal(0, (await client.StatAsync()).Count);
        await client.QuitAsync();
    }
}
