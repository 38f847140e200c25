using Poplib.Testing.Tests.Infrastructure;

namespace Poplib.Testing.Tests.Protocol;

/// <summary>RFC 1939: deletions happen in the UPDATE state, which only QUIT enters.</summary>
public class DeletionTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dele_then_quit_removes_the_message(bool async)
    {
        await using Pop3TestServer server = TestServer.Start(out Pop3MemoryMailbox mailbox);
        using (Pop3Client client = await TestServer.LogIn(async, server))
        {
            await Both.Run(async, () => client.Dele(1), () => client.DeleAsync(1));
            await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
        }

        Assert.Equal(2, mailbox.Count);
        using Pop3Client again = await TestServer.LogIn(async, server);
        Assert.Equal(["msg-2", "msg-3"], again.Uidl().Select(u => u.Uid));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dele_then_dispose_keeps_the_message(bool async)
    {
        await using Pop3TestServer server = TestServer.Start(out Pop3MemoryMailbox mailbox);
        using (Pop3Client client = await TestServer.LogIn(async, server))
            await Both.Run(async, () => client.Dele(1), () => client.DeleAsync(1));

        // The lock is released when the server notices the close; a fresh login must see all three.
        await Eventually(() => server.ActiveSessions == 0);
        using Pop3Client again = await TestServer.LogIn(async, server);
        Assert.Equal(3, again.Stat().Count);
        Assert.Equal(3, mailbox.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_read_only_mailbox_refuses_dele_and_keeps_everything(bool async)
    {
        Pop3MemoryMailbox mailbox = Pop3Mailbox.FromMessages(["Subject: 1\n\none\n"u8.ToArray(), "Subject: 2\n\ntwo\n"u8.ToArray()]);
        await using Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.None });
        server.AddUser("alice", "secret", Pop3Mailbox.ReadOnly(mailbox));
        using (Pop3Client client = await Both.Run(async,
            () => Pop3Client.Connect("127.0.0.1", server.Port, new Pop3ClientOptions { AllowInsecureAuthentication = true }),
            () => Pop3Client.ConnectAsync("127.0.0.1", server.Port, new Pop3ClientOptions { AllowInsecureAuthentication = true })))
        {
            await Both.Run(async, () => client.Login("alice", "secret"), () => client.LoginAsync("alice", "secret"));
            var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Dele(1), () => client.DeleAsync(1)));
            Assert.Equal(Pop3ResponseCode.SysPerm, refused.ResponseCode);
            Assert.Equal(2, client.Stat().Count); // the session goes on, nothing marked
            await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
        }

        Assert.Equal(2, mailbox.Count);
    }

    internal static async Task Eventually(Func<bool> condition)
    {
        for (int i = 0; i < 200 && !condition(); i++)
            await Task.Delay(25);
        Assert.True(condition());
    }
}
