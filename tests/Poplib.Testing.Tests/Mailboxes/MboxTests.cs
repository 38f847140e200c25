using System.Text;
using Poplib.Testing.Tests.Infrastructure;

namespace Poplib.Testing.Tests.Mailboxes;

public sealed class MboxTests : IDisposable
{
    private const string Mbox =
        "From alice@example.org Mon Jan  1 00:00:00 2024\n" +
        "Subject: one\n\nHello\n>From the start, a quoted line.\n>>From deeper.\n> From not quoted.\n\n" +
        "From bob@example.org Tue Jan  2 00:00:00 2024\n" +
        "Subject: two\n\n.a dot line\n\n" +
        "From carol@example.org Wed Jan  3 00:00:00 2024\n" +
        "Subject: three\n\nlast\n\n";

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"poplib-{Guid.NewGuid():N}.mbox");

    public void Dispose() => File.Delete(_path);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Messages_are_split_unquoted_and_served_with_CRLF(bool async)
    {
        File.WriteAllText(_path, Mbox);
        await using Pop3TestServer server = Pop3TestServer.Start(new Pop3TestServerOptions());
        server.AddUser("alice", "secret", Pop3Mailbox.FromMbox(_path));
        using Pop3Client client = await TestServer.LogIn(async, server);

        string[] expected =
        [
            "Subject: one\r\n\r\nHello\r\nFrom the start, a quoted line.\r\n>From deeper.\r\n> From not quoted.\r\n",
            "Subject: two\r\n\r\n.a dot line\r\n",
            "Subject: three\r\n\r\nlast\r\n",
        ];
        await TestServer.AssertServes(async, client, expected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Quit_rewrites_the_file_without_deleted_messages_and_uids_stay(bool async)
    {
        File.WriteAllText(_path, Mbox);
        await using Pop3TestServer server = Pop3TestServer.Start(new Pop3TestServerOptions());
        server.AddUser("alice", "secret", Pop3Mailbox.FromMbox(_path));

        IReadOnlyList<Pop3UidlEntry> before;
        using (Pop3Client client = await TestServer.LogIn(async, server))
        {
            before = await Both.Run(async, () => client.Uidl(), () => client.UidlAsync());
            await Both.Run(async, () => client.Dele(2), () => client.DeleAsync(2));
            await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
        }

        string bob = "From bob@example.org Tue Jan  2 00:00:00 2024\nSubject: two\n\n.a dot line\n\n";
        Assert.Equal(Mbox.Replace(bob, "", StringComparison.Ordinal), File.ReadAllText(_path));
        using Pop3Client again = await TestServer.LogIn(async, server);
        IReadOnlyList<Pop3UidlEntry> after = await Both.Run(async, () => again.Uidl(), () => again.UidlAsync());
        Assert.Equal([before[0].Uid, before[2].Uid], after.Select(u => u.Uid));
    }

    [Fact]
    public async Task A_missing_file_is_an_empty_mailbox()
    {
        await using Pop3TestServer server = Pop3TestServer.Start(new Pop3TestServerOptions());
        server.AddUser("alice", "secret", Pop3Mailbox.FromMbox(_path));
        using Pop3Client client = await TestServer.LogIn(false, server);
        Assert.Equal(0, client.Stat().Count);
    }

    [Fact]
    public async Task A_stale_session_never_deletes_the_wrong_mail()
    {
        // Two mailboxes over one file: the first QUIT rewrites it, so the second session's offsets are stale.
        File.WriteAllText(_path, Mbox);
        await using Pop3TestServer server = Pop3TestServer.Start(new Pop3TestServerOptions());
        server.AddUser("alice", "secret", Pop3Mailbox.FromMbox(_path));
        server.AddUser("bob", "secret", Pop3Mailbox.FromMbox(_path));
        using Pop3Client first = await TestServer.LogIn(async: true, server);
        Pop3ClientOptions options = TestServer.ClientOptions(server);
        using Pop3Client second = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, options);
        await second.UserAsync("bob");
        await second.PassAsync("secret");

        await first.DeleAsync(1);
        await first.QuitAsync();
        await second.DeleAsync(2);
        await Assert.ThrowsAnyAsync<Pop3Exception>(() => second.QuitAsync());

        string left = File.ReadAllText(_path);
        Assert.DoesNotContain("Subject: one", left);
        Assert.Contains("Subject: two\n\n.a dot line\n", left);
        Assert.Contains("Subject: three\n\nlast\n", left);
    }
}
