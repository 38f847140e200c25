using System.Text;
using Poplib.Fetch;
using Poplib.Testing;
using Poplib.Tests.Fetch;
using Poplib.Tests.Interop;

namespace Poplib.Tests.Lmtp;

/// <summary>The retriever delivering over LMTP into real Dovecot: a realistic mailbox, byte for byte, over TCP and the Unix socket.</summary>
[Collection(nameof(DovecotLmtpCollection))]
public class DovecotLmtpDestinationTests(DovecotLmtpFixture fixture)
{
    private DovecotInstance Dovecot => fixture.Server;

    private static byte[][] Mailbox() =>
    [
        SampleMail.Tricky(),                                                        // lone dot, lines starting with '.', UTF-8
        SampleMail.LongLines(10_000, 3),                                            // lines far past 998 octets
        [.. "Return-Path: <list-bounces@example.net>\r\nSubject: latin-1\r\n\r\ncaf"u8, 0xE9, .. "\r\n\xff raw\r\n.\r\n..\r\n"u8],
        Encoding.ASCII.GetBytes("Subject: empty body\r\n\r\n"),
        .. Enumerable.Range(1, 6).Select(n => SampleMail.Message(n)),
    ];

    [DovecotLmtpTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_mailbox_arrives_byte_for_byte_then_nothing_again_then_delete_empties_the_server(bool unix)
    {
        byte[][] messages = Mailbox();
        var (user, _) = Dovecot.AddUser([]);
        string endpoint = unix ? "unix:" + Dovecot.LmtpSocket : $"{Dovecot.Host}:{Dovecot.LmtpPort}";
        await using EngineWorld world = await EngineWorld.StartAsync(Pop3Mailbox.FromMessages(messages));
        FetchAccount account = world.Account(FetchDestination.Lmtp(endpoint, [user]));

        FetchResult first = await world.RunAsync(account);

        Assert.Equal(messages.Length, first.Delivered);
        var stored = DeliveredMail.Read(Dovecot, user);
        Assert.Equal(
            messages.Select(DeliveredMail.AsStored).Select(Convert.ToHexString).Order(StringComparer.Ordinal),
            stored.Select(s => Convert.ToHexString(s.Message)).Order(StringComparer.Ordinal));
        Assert.Single(stored, s => s.ReturnPath == "<list-bounces@example.net>");
        Assert.Equal(messages.Length - 1, stored.Count(s => s.ReturnPath == "<>"));

        FetchResult again = await world.RunAsync(account);
        Assert.Equal(0, again.Delivered);
        Assert.Equal(messages.Length, DeliveredMail.Read(Dovecot, user).Count);

        FetchResult delete = await world.RunAsync(account with { Policy = new FetchPolicy { Delete = true } });
        Assert.Equal(0, delete.Delivered);
        Assert.Equal(messages.Length, delete.Deleted);
        Assert.Equal(0, world.Memory.Count);
        Assert.Equal(messages.Length, DeliveredMail.Read(Dovecot, user).Count);
    }

    [DovecotLmtpTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_unknown_recipient_is_a_rejection_and_the_message_stays(bool unix)
    {
        string endpoint = unix ? "unix:" + Dovecot.LmtpSocket : $"{Dovecot.Host}:{Dovecot.LmtpPort}";
        await using EngineWorld world = await EngineWorld.StartAsync(2);
        FetchAccount account = world.Account(FetchDestination.Lmtp(endpoint, ["nobody-" + Guid.NewGuid().ToString("N")[..8]]), new FetchPolicy { Delete = true });

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(account));

        Assert.Equal(FetchFailure.Rejected, failed.Failure);
        Assert.Equal(2, failed.Result!.Rejected);
        Assert.All(failed.Result.Warnings.Where(w => w.Message.Contains("rejected message", StringComparison.Ordinal)), w => Assert.Contains("5.1.1", w.Message, StringComparison.Ordinal));
        Assert.Empty(world.State());
        Assert.Equal(2, world.Memory.Count);
    }
}
