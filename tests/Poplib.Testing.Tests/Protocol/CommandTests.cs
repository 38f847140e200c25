using Poplib.Testing.Tests.Infrastructure;

namespace Poplib.Testing.Tests.Protocol;

/// <summary>Every RFC 1939 command through the real client, over plain TCP, after STLS and over implicit TLS.</summary>
public class CommandTests
{
    public enum Link { Plain, StartTls, ImplicitTls }

    public static TheoryData<Link, bool> Links()
    {
        var data = new TheoryData<Link, bool>();
        foreach (Link link in Enum.GetValues<Link>())
        {
            data.Add(link, false);
            data.Add(link, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Links))]
    public async Task Every_command_works(Link link, bool async)
    {
        var options = new Pop3TestServerOptions { Tls = link == Link.ImplicitTls ? Pop3TlsMode.Implicit : link == Link.StartTls ? Pop3TlsMode.StartTls : Pop3TlsMode.None };
        await using Pop3TestServer server = TestServer.Start(out Pop3MemoryMailbox mailbox, options);
        byte[][] expected = [.. TestServer.SampleMessages.Select(TestServer.Crlf)];

        // No insecure authentication allowed on the TLS links: the client must see them encrypted.
        Pop3ClientOptions clientOptions = TestServer.ClientOptions(server, allowInsecure: link == Link.Plain);
        using Pop3Client client = link == Link.ImplicitTls
            ? await TestServer.ConnectSsl(async, server, clientOptions)
            : await TestServer.Connect(async, server, clientOptions);
        Assert.NotNull(client.ApopTimestamp);
        Assert.Equal(link == Link.StartTls, client.Capabilities.Stls);
        if (link == Link.StartTls)
        {
            await Both.Run(async, () => client.Stls(), () => client.StlsAsync());
            Assert.False(client.Capabilities.Stls);
        }

        Assert.Equal(link != Link.Plain, client.IsEncrypted);
        Assert.True(client.Capabilities.User);
        Assert.Equal(["PLAIN"], client.Capabilities.SaslMechanisms);

        await Both.Run(async, () => client.User(TestServer.User), () => client.UserAsync(TestServer.User));
        await Both.Run(async, () => client.Pass(TestServer.Password), () => client.PassAsync(TestServer.Password));
        Assert.True(client.IsAuthenticated);
        // After login the server drops the login capabilities, as Dovecot does.
        Assert.False(client.Capabilities.User);
        Assert.Empty(client.Capabilities.SaslMechanisms);
        Pop3Capabilities capabilities = await Both.Run(async, () => client.Capa(), () => client.CapaAsync());
        Assert.True(capabilities.Top && capabilities.Uidl && capabilities.Pipelining);
        Assert.Equal("Poplib.Testing", capabilities.Implementation);

        Pop3MailboxStatus status = await Both.Run(async, () => client.Stat(), () => client.StatAsync());
        Assert.Equal(3, status.Count);
        Assert.Equal(expected.Sum(m => (long)m.Length), status.Size);

        IReadOnlyList<Pop3ListEntry> list = await Both.Run(async, () => client.List(), () => client.ListAsync());
        Assert.Equal(expected.Select((m, i) => new Pop3ListEntry(i + 1, m.Length)), list);
        Assert.Equal(new Pop3ListEntry(2, expected[1].Length), await Both.Run(async, () => client.List(2), () => client.ListAsync(2)));

        IReadOnlyList<Pop3UidlEntry> uidl = await Both.Run(async, () => client.Uidl(), () => client.UidlAsync());
        Assert.Equal(["msg-1", "msg-2", "msg-3"], uidl.Select(u => u.Uid));
        Assert.Equal(new Pop3UidlEntry(3, "msg-3"), await Both.Run(async, () => client.Uidl(3), () => client.UidlAsync(3)));

        for (int i = 0; i < expected.Length; i++)
        {
            int number = i + 1;
            Pop3Message message = await Both.Run(async, () => client.Retr(number), () => client.RetrAsync(number));
            Assert.Equal(expected[i], message.ToArray());
        }

        Pop3Message top = await Both.Run(async, () => client.Top(3, 2), () => client.TopAsync(3, 2));
        Assert.Equal("From: c@example.org\r\nSubject: three\r\n\r\nline 1\r\nline 2\r\n"u8.ToArray(), top.ToArray());
        Pop3Message headers = await Both.Run(async, () => client.Top(2, 0), () => client.TopAsync(2, 0));
        Assert.Equal("From: b@example.org\r\nSubject: two\r\n\r\n"u8.ToArray(), headers.ToArray());

        await Both.Run(async, () => client.Noop(), () => client.NoopAsync());
        await Both.Run(async, () => client.Dele(1), () => client.DeleAsync(1));
        Assert.Equal(2, (await Both.Run(async, () => client.Stat(), () => client.StatAsync())).Count);
        var deleted = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1)));
        Assert.Contains("deleted", deleted.ResponseText, StringComparison.Ordinal);
        await Both.Run(async, () => client.Rset(), () => client.RsetAsync());
        Assert.Equal(3, (await Both.Run(async, () => client.Stat(), () => client.StatAsync())).Count);
        await Both.Run(async, () => client.Dele(2), () => client.DeleAsync(2));
        await Both.Run(async, () => client.Quit(), () => client.QuitAsync());

        Assert.Equal([TestServer.SampleMessages[0], TestServer.SampleMessages[2]], mailbox.Messages);
        Assert.Empty(server.Errors);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Bad_message_numbers_are_command_errors(bool async)
    {
        await using Pop3TestServer server = TestServer.Start();
        using Pop3Client client = await TestServer.LogIn(async, server);

        var missing = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Retr(4), () => client.RetrAsync(4)));
        Assert.Equal("There's no message 4.", missing.ResponseText);
        await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.List(9), () => client.ListAsync(9)));
        await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Dele(9), () => client.DeleAsync(9)));
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task The_command_state_machine_is_enforced()
    {
        await using Pop3TestServer server = TestServer.Start();
        using RawConnection raw = await RawConnection.OpenAsync(server);
        Assert.StartsWith("+OK", await raw.ReadLineAsync());
        await raw.SendAsync("STAT\r\nPASS secret\r\nXYZZY\r\nUSER alice\r\nPASS wrong\r\nUSER alice\r\nPASS secret\r\nUSER alice\r\nSTAT\r\nQUIT\r\n");
        Assert.Equal("-ERR STAT is not valid in the AUTHORIZATION state.", await raw.ReadLineAsync());
        Assert.Equal("-ERR USER first.", await raw.ReadLineAsync());
        Assert.Equal("-ERR Unknown command: XYZZY", await raw.ReadLineAsync());
        Assert.Equal("+OK", await raw.ReadLineAsync());
        Assert.Equal("-ERR [AUTH] Authentication failed.", await raw.ReadLineAsync());
        Assert.Equal("+OK", await raw.ReadLineAsync());
        Assert.StartsWith("+OK Logged in", await raw.ReadLineAsync());
        Assert.Equal("-ERR USER is not valid in the TRANSACTION state.", await raw.ReadLineAsync());
        Assert.Equal("+OK 3 " + TestServer.SampleMessages.Sum(m => TestServer.Crlf(m).Length), await raw.ReadLineAsync());
        Assert.Equal("+OK Logging out.", await raw.ReadLineAsync());
        Assert.Null(await raw.ReadLineAsync());
    }
}
