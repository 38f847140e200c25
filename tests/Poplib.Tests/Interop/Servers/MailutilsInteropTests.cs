using Poplib.Tests.Infrastructure;
using Poplib.Tests.Interop.Lab;

namespace Poplib.Tests.Interop.Servers;

/// <summary>The interop suite against the lab's GNU Mailutils pop3d (see <see cref="RealServer.Mailutils"/>), and its own quirks.</summary>
[InteropServer("mailutils")]
public sealed class MailutilsInteropTests : InteropSuite
{
    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Uidl_adds_an_x_uidl_header_that_list_and_stat_count_at_once_and_for_good(bool async)
    {
        LabMailbox mailbox = FreshMailbox();
        IReadOnlyList<Pop3ListEntry> after;
        using (Pop3Client client = await OpenSessionAsync(async))
        {
            IReadOnlyList<Pop3ListEntry> before = await Both.Run(async, client.List, () => client.ListAsync());
            Assert.All(before, entry => Assert.Equal(mailbox.Size, entry.Size));
            IReadOnlyList<Pop3UidlEntry> uids = await Both.Run(async, client.Uidl, () => client.UidlAsync());

            // Within the session: every message is longer by its X-UIDL line, as LIST said a moment ago it was not.
            after = await Both.Run(async, client.List, () => client.ListAsync());
            Assert.Equal(uids.Select(u => new Pop3ListEntry(u.Number, mailbox.Size + $"X-UIDL: {u.Uid}\r\n".Length)), after);
            Assert.Equal(after.Sum(e => e.Size), (await Both.Run(async, client.Stat, () => client.StatAsync())).Size);
            Pop3Message first = await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1));
            Assert.Equal(after[0].Size, first.Octets);
            Assert.Contains($"\r\nX-UIDL: {uids[0].Uid}\r\n\r\n", System.Text.Encoding.UTF8.GetString(first.Content.Span), StringComparison.Ordinal);
            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }

        using (Pop3Client client = await OpenSessionAsync(async))
            Assert.Equal(after, await Both.Run(async, client.List, () => client.ListAsync()));
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Expirenever_is_read_as_expire_never(bool async)
    {
        // RFC 2449 says "EXPIRE NEVER"; GNU pop3d writes EXPIRENEVER, which the client knows by name.
        using Pop3Client client = await ConnectAsync(async, Link.Plain);
        Assert.True(client.Capabilities.Has("EXPIRENEVER"));
        Assert.Equal(new Pop3ExpirePolicy(Never: true, Days: 0, PerUser: false), client.Capabilities.Expire);
    }
}
