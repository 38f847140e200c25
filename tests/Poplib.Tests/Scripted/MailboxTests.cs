using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

public class MailboxTests
{
    private static Task<Pop3Client> LoggedInClient(bool async, ScriptedServer server) => Both.LogIn(async, server.Port);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stat_list_uidl_dele_rset_noop_quit(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn()
            .On("STAT", "+OK 3 3200")
            .On("DELE 1", "+OK message 1 deleted")
            .On("LIST", "+OK 2 messages", "2  200", "3\t3000 extra", ".")
            .On("LIST 2", "+OK 2 200")
            .On("UIDL", "+OK", "2 QhdPYR:00WBw1Ph7x7", "3   a.b-c~d", ".")
            .On("UIDL 3", "+OK 3 a.b-c~d")
            .On("RSET", "+OK maildrop has 3 messages")
            .On("NOOP", "+OK")
            .On("QUIT", "+OK dewey POP3 server signing off")
            .ExpectHangUp());
        using Pop3Client client = await LoggedInClient(async, server);

        Assert.Equal(new Pop3MailboxStatus(3, 3200), await Both.Run(async, client.Stat, () => client.StatAsync()));
        Assert.Equal("message 1 deleted", (await Both.Run(async, () => client.Dele(1), () => client.DeleAsync(1))).Text);
        Assert.Equal([new Pop3ListEntry(2, 200), new Pop3ListEntry(3, 3000)], await Both.Run(async, client.List, () => client.ListAsync()));
        Assert.Equal(new Pop3ListEntry(2, 200), await Both.Run(async, () => client.List(2), () => client.ListAsync(2)));
        Assert.Equal([new Pop3UidlEntry(2, "QhdPYR:00WBw1Ph7x7"), new Pop3UidlEntry(3, "a.b-c~d")], await Both.Run(async, client.Uidl, () => client.UidlAsync()));
        Assert.Equal(new Pop3UidlEntry(3, "a.b-c~d"), await Both.Run(async, () => client.Uidl(3), () => client.UidlAsync(3)));
        await Both.Run(async, client.Rset, () => client.RsetAsync());
        await Both.Run(async, client.Noop, () => client.NoopAsync());
        Pop3Response bye = await Both.Run(async, client.Quit, () => client.QuitAsync());

        Assert.Equal("dewey POP3 server signing off", bye.Text);
        Assert.Equal(Pop3SessionState.Closed, client.State);
        Assert.False(client.IsConnected);
        await server.VerifyAsync();
        Assert.Throws<InvalidOperationException>(() => client.Noop());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Err_replies_are_command_errors_and_the_session_goes_on(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn()
            .On("LIST 9", "-ERR no such message, only 2 messages in maildrop")
            .On("DELE 9", "-ERR no such message")
            .On("RETR 9", "-ERR no such message")
            .On("UIDL 9", "-ERR no such message")
            .On("NOOP", "+OK"));
        using Pop3Client client = await LoggedInClient(async, server);

        var list = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.List(9), () => client.ListAsync(9)));
        Assert.Equal("no such message, only 2 messages in maildrop", list.ResponseText);
        await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Dele(9), () => client.DeleAsync(9)));
        await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Retr(9), () => client.RetrAsync(9)));
        await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Uidl(9), () => client.UidlAsync(9)));
        await Both.Run(async, client.Noop, () => client.NoopAsync());
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData("LIST", new[] { "+OK", "1 100", "1 100", "." }, "appears twice")]
    [InlineData("LIST", new[] { "+OK", "2 100", "1 100", "2 50", "." }, "appears twice")]
    [InlineData("LIST", new[] { "+OK", "0 100", "." }, "out of range")]
    [InlineData("LIST", new[] { "+OK", "1 -100", "." }, "Malformed")]
    [InlineData("LIST", new[] { "+OK", "x 100", "." }, "Malformed")]
    [InlineData("LIST", new[] { "+OK", "99999999999 1", "." }, "out of range")]
    [InlineData("UIDL", new[] { "+OK", "1 abc", "1 def", "." }, "appears twice")]
    [InlineData("UIDL", new[] { "+OK", "1", "." }, "Malformed")]
    public async Task Bad_listings_are_protocol_errors_that_close_the_connection(string verb, string[] reply, string expected)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().On(verb, reply));
        using Pop3Client client = await LoggedInClient(async: false, server);

        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => Task.Run(() => verb == "LIST" ? (object)client.List() : client.Uidl()));
        Assert.Contains(expected, error.Message);
        Assert.False(client.IsConnected);
        Assert.Equal(Pop3SessionState.Closed, client.State);
        var after = Assert.Throws<Pop3ProtocolException>(() => client.Noop());
        Assert.Same(error, after.InnerException);
    }

    [Fact]
    public async Task Listing_beyond_the_stat_count_is_out_of_range_but_gaps_after_dele_are_fine()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn()
            .On("DELE 1", "+OK")
            .On("STAT", "+OK 2 300")
            .On("LIST", "+OK", "2 100", "3 200", ".")
            .On("LIST", "+OK", "2 100", "4 200", "."));
        using Pop3Client client = await LoggedInClient(async: false, server);
        client.Dele(1);
        client.Stat();
        Assert.Equal(2, client.List().Count);
        var error = Assert.Throws<Pop3ProtocolException>(() => client.List());
        Assert.Contains("message number 4 is out of range", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Single_item_reply_for_another_message_is_a_protocol_error(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().On("LIST 2", "+OK 3 120"));
        using Pop3Client client = await LoggedInClient(async, server);
        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => Both.Run(async, () => client.List(2), () => client.ListAsync(2)));
        Assert.Contains("answered LIST 2 for message 3", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Uidl_for_another_message_is_a_protocol_error(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().On("UIDL 2", "+OK 1 abc"));
        using Pop3Client client = await LoggedInClient(async, server);
        await Assert.ThrowsAsync<Pop3ProtocolException>(() => Both.Run(async, () => client.Uidl(2), () => client.UidlAsync(2)));
    }

    [Fact]
    public async Task Malformed_stat_is_a_protocol_error()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().On("STAT", "+OK lots"));
        using Pop3Client client = await LoggedInClient(async: false, server);
        Assert.Throws<Pop3ProtocolException>(() => client.Stat());
    }

    [Fact]
    public async Task Listing_entry_cap_is_enforced()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().On("LIST", ["+OK", .. Enumerable.Range(1, 20).Select(i => $"{i} 10"), "."]));
        var options = Both.Plain();
        options.MaxListEntries = 10;
        using Pop3Client client = Pop3Client.Connect("127.0.0.1", server.Port, options);
        client.User("alice");
        client.Pass("secret");
        var error = Assert.Throws<Pop3LimitExceededException>(() => client.List());
        Assert.Equal(nameof(Pop3ClientOptions.MaxListEntries), error.LimitName);
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Listing_octet_cap_counts_the_wire_bytes_of_one_reply(bool async)
    {
        // 20 lines of 10 octets ("nn abcde" and CRLF) and the terminator: 203 octets fit a cap of 203, not of 202.
        string[] uidl = ["+OK", .. Enumerable.Range(10, 20).Select(i => $"{i} abcde"), "."];
        await using var server = ScriptedServer.Start(s => s.LoggedIn().On("UIDL", uidl).On("UIDL", uidl));
        Pop3ClientOptions options = Both.Plain();
        options.MaxListingOctets = 203;
        using Pop3Client client = await Both.LogIn(async, server.Port, options);

        // The count starts afresh with each reply.
        Assert.Equal(20, (await Both.Run(async, client.Uidl, () => client.UidlAsync())).Count);
        Assert.Equal(20, (await Both.Run(async, client.Uidl, () => client.UidlAsync())).Count);
        await server.VerifyAsync();

        await using var longer = ScriptedServer.Start(s => s.LoggedIn().On("UIDL", uidl));
        options.MaxListingOctets = 202;
        using Pop3Client limited = await Both.LogIn(async, longer.Port, options);
        var error = await Assert.ThrowsAsync<Pop3LimitExceededException>(() => Both.Run(async, limited.Uidl, () => limited.UidlAsync()));
        Assert.Equal(nameof(Pop3ClientOptions.MaxListingOctets), error.LimitName);
        Assert.False(limited.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Listings_out_of_order_are_fine_and_uids_read_back_in_any_order(bool async)
    {
        // Enough UIDs of 1 to 300 octets that some straddle the storage's chunks.
        var uids = Enumerable.Range(1, 3000).Select(i => new string((char)('!' + i % 90), 1 + i * 37 % 300)).ToArray();
        string[] listing = ["+OK", .. Enumerable.Range(1, 3000).Reverse().Select(i => $"{i} {uids[i - 1]}"), "."];
        await using var server = ScriptedServer.Start(s => s.LoggedIn().On("UIDL", listing).On("LIST", "+OK", "3 30", "1 10", "2 20", "."));
        using Pop3Client client = await LoggedInClient(async, server);

        IReadOnlyList<Pop3UidlEntry> entries = await Both.Run(async, client.Uidl, () => client.UidlAsync());
        Assert.Equal(3000, entries.Count);
        for (int i = 0; i < 3000; i += 7)
            Assert.Equal(new Pop3UidlEntry(3000 - i, uids[3000 - i - 1]), entries[i]);
        Assert.Equal(Enumerable.Range(1, 3000).Reverse().Select(i => uids[i - 1]), entries.Select(e => e.Uid));
        Assert.Throws<ArgumentOutOfRangeException>(() => entries[3000]);
        Assert.Equal([new Pop3ListEntry(3, 30), new Pop3ListEntry(1, 10), new Pop3ListEntry(2, 20)], await Both.Run(async, client.List, () => client.ListAsync()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Quit_err_still_closes(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().On("QUIT", "-ERR [SYS/TEMP] could not delete messages"));
        using Pop3Client client = await LoggedInClient(async, server);
        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, client.Quit, () => client.QuitAsync()));
        Assert.Equal(Pop3ResponseCode.SysTemp, error.ResponseCode);
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task Numbers_below_one_are_argument_errors()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn());
        using Pop3Client client = await LoggedInClient(async: false, server);
        Assert.Throws<ArgumentOutOfRangeException>(() => client.Dele(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => client.Retr(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => client.Top(1, -1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.ListAsync(0));
        Assert.True(client.IsConnected);
    }
}
