using System.Text;
using Poplib.Testing.Tests.Infrastructure;

namespace Poplib.Testing.Tests.Mailboxes;

public sealed class MaildirTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("poplib-maildir-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string folder, string name, string content)
    {
        Directory.CreateDirectory(Path.Combine(_root, folder));
        string path = Path.Combine(_root, folder, name);
        File.WriteAllBytes(path, Encoding.UTF8.GetBytes(content));
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Messages_are_served_in_file_name_order_byte_exact_with_CRLF(bool async)
    {
        Write("new", "1700000002.M2P1.host", "Subject: lf\n\nbody\n.dot\n");
        Write("cur", "1700000001.M1P1.host:2,S", "Subject: crlf\r\n\r\nbody\r\n");
        Write("cur", "1700000003.M3P1.host:2,", "Subject: no final newline\n\nlast line");
        Write("tmp", "1700000000.M0P1.host", "Subject: being delivered\n\n");
        Write("new", ".hidden", "not mail");

        await using Pop3TestServer server = Pop3TestServer.Start(new Pop3TestServerOptions());
        server.AddUser("alice", "secret", Pop3Mailbox.FromMaildir(_root));
        using Pop3Client client = await TestServer.LogIn(async, server);

        IReadOnlyList<Pop3UidlEntry> uids = await Both.Run(async, () => client.Uidl(), () => client.UidlAsync());
        Assert.Equal(["1700000001.M1P1.host", "1700000002.M2P1.host", "1700000003.M3P1.host"], uids.Select(u => u.Uid));
        string[] expected = ["Subject: crlf\r\n\r\nbody\r\n", "Subject: lf\r\n\r\nbody\r\n.dot\r\n", "Subject: no final newline\r\n\r\nlast line\r\n"];
        await TestServer.AssertServes(async, client, expected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Quit_deletes_the_files_of_deleted_messages_and_dispose_does_not(bool async)
    {
        string first = Write("cur", "1.host:2,S", "Subject: 1\n\n1\n");
        string second = Write("new", "2.host", "Subject: 2\n\n2\n");
        await using Pop3TestServer server = Pop3TestServer.Start(new Pop3TestServerOptions());
        server.AddUser("alice", "secret", Pop3Mailbox.FromMaildir(_root));

        using (Pop3Client client = await TestServer.LogIn(async, server))
            await Both.Run(async, () => client.Dele(2), () => client.DeleAsync(2));
        await Protocol.DeletionTests.Eventually(() => server.ActiveSessions == 0);
        Assert.True(File.Exists(second));

        using (Pop3Client client = await TestServer.LogIn(async, server))
        {
            await Both.Run(async, () => client.Dele(2), () => client.DeleAsync(2));
            await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
        }

        Assert.True(File.Exists(first));
        Assert.False(File.Exists(second));
    }

    [Fact]
    public async Task A_large_file_streams_through_intact()
    {
        var text = new StringBuilder("Subject: large\n\n");
        for (int i = 0; i < 200_000; i++)
            text.Append(i % 100 == 0 ? ".dotted line " : "line ").Append(i).Append('\n');
        Write("cur", "big.host:2,", text.ToString());
        await using Pop3TestServer server = Pop3TestServer.Start(new Pop3TestServerOptions());
        server.AddUser("alice", "secret", Pop3Mailbox.FromMaildir(_root));
        using Pop3Client client = await TestServer.LogIn(true, server);

        var received = new MemoryStream();
        long octets = await client.RetrToAsync(1, received);
        Assert.Equal(client.List(1).Size, octets);
        Assert.Equal(text.ToString().Replace("\n", "\r\n", StringComparison.Ordinal), Encoding.UTF8.GetString(received.ToArray()));
    }
}
