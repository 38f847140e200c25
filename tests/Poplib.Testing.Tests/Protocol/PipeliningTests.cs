using Poplib.Testing.Tests.Infrastructure;

namespace Poplib.Testing.Tests.Protocol;

/// <summary>RFC 2449 PIPELINING: several commands in one TCP write are all answered, in order.</summary>
public class PipeliningTests
{
    [Fact]
    public async Task Commands_in_one_write_are_answered_in_order()
    {
        await using Pop3TestServer server = TestServer.Start();
        using RawConnection raw = await RawConnection.OpenAsync(server);
        Assert.StartsWith("+OK", await raw.ReadLineAsync());

        await raw.SendAsync("CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nUIDL 2\r\nRETR 2\r\nTOP 1 0\r\nDELE 3\r\nNOOP\r\nQUIT\r\n");

        List<string> capa = await raw.ReadMultiLineAsync();
        Assert.Contains("PIPELINING", capa);
        Assert.Equal("+OK", await raw.ReadLineAsync());
        Assert.StartsWith("+OK Logged in: 3 messages", await raw.ReadLineAsync());
        Assert.StartsWith("+OK 3 ", await raw.ReadLineAsync());
        List<string> list = await raw.ReadMultiLineAsync();
        Assert.Equal(5, list.Count);
        Assert.Equal("+OK 2 msg-2", await raw.ReadLineAsync());
        List<string> retr = await raw.ReadMultiLineAsync();
        Assert.Equal(["From: b@example.org", "Subject: two", "", "..leading dot", "...two dots", "..", "end", "."], retr.Skip(1));
        List<string> top = await raw.ReadMultiLineAsync();
        Assert.Equal(["+OK", "From: a@example.org", "Subject: one", "", "."], top);
        Assert.Equal("+OK Message 3 deleted.", await raw.ReadLineAsync());
        Assert.Equal("+OK", await raw.ReadLineAsync());
        Assert.Equal("+OK Logging out.", await raw.ReadLineAsync());
        Assert.Null(await raw.ReadLineAsync());
    }

    [Fact]
    public async Task Bytes_sent_with_STLS_are_discarded_not_run_after_the_handshake()
    {
        // RFC 2595 section 4 (CVE-2011-0411): a command injected after STLS must not run inside TLS.
        await using Pop3TestServer server = TestServer.Start();
        using RawConnection raw = await RawConnection.OpenAsync(server);
        await raw.ReadLineAsync();
        await raw.SendAsync("STLS\r\nUSER alice\r\n");
        Assert.Equal("+OK Begin TLS negotiation now.", await raw.ReadLineAsync());
        await raw.StartTlsAsync(server);
        await raw.SendAsync("PASS secret\r\n");
        Assert.Equal("-ERR USER first.", await raw.ReadLineAsync());
    }
}
