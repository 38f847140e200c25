using System.Text;
using Poplib.Fetch.Delivery.Lmtp;
using Poplib.Tests.Interop;
using static Poplib.Tests.Lmtp.LmtpTestPaths;

namespace Poplib.Tests.Lmtp;

/// <summary>The LMTP client against Dovecot's LMTP server, over TCP and the Unix socket, pipelined and in lockstep, sync and async.</summary>
[Collection(nameof(DovecotLmtpCollection))]
public class DovecotLmtpTests(DovecotLmtpFixture fixture)
{
    private DovecotInstance Dovecot => fixture.Server;

    public static TheoryData<bool, bool, bool> Paths()
    {
        var data = new TheoryData<bool, bool, bool>();
        foreach (bool async in new[] { false, true })
        {
            foreach (bool unix in new[] { false, true })
            {
                foreach (bool pipelining in new[] { false, true })
                    data.Add(async, unix, pipelining);
            }
        }

        return data;
    }

    /// <summary>Messages that test every rule of DATA's form.</summary>
    private static byte[][] HardMessages() =>
    [
        SampleMail.Tricky(),                                                       // lone dot, lines starting with '.', "..", UTF-8
        SampleMail.LongLines(10_000, 3),                                           // lines far past 998 octets
        Encoding.ASCII.GetBytes("Subject: bare LF\n\n.leading dot\n.\nbody\n"),   // LF line ends throughout
        Encoding.ASCII.GetBytes("Subject: mixed\r\n\r\na\r\nb\nc\r\n"),           // CRLF and LF in one message
        Encoding.ASCII.GetBytes("Subject: no newline\r\n\r\nlast line without one"),
        Encoding.ASCII.GetBytes("Subject: ends in a dot\r\n\r\n."),               // the last line is a lone dot, unterminated
        [.. "Subject: latin-1\r\n\r\ncaf"u8, 0xE9, .. "\r\n\xff\xfe raw\r\n"u8],   // 8-bit bytes that are not UTF-8
        Encoding.ASCII.GetBytes("Subject: empty body\r\n\r\n"),
    ];

    private LmtpEndpoint Endpoint(bool unix) =>
        unix ? LmtpEndpoint.Unix(Dovecot.LmtpSocket!) : LmtpEndpoint.Tcp(Dovecot.Host, Dovecot.LmtpPort);

    [DovecotLmtpTheory]
    [MemberData(nameof(Paths))]
    public async Task Every_message_arrives_byte_for_byte_for_every_recipient(bool async, bool unix, bool pipelining)
    {
        var (first, _) = Dovecot.AddUser([]);
        var (second, _) = Dovecot.AddUser([]);
        byte[][] messages = HardMessages();

        using LmtpClient client = await Connect(async, Endpoint(unix), new LmtpClientOptions { UsePipelining = pipelining, MessageBufferSize = 4096 });
        Assert.True(client.Capabilities.Pipelining);
        Assert.True(client.Capabilities.EightBitMime);
        foreach (byte[] message in messages)
        {
            LmtpDeliveryResult result = await Deliver(async, client, "sender@example.net", [$"{first}@example.org", second], message);
            Assert.True(result.AllDelivered, string.Join("; ", result.Recipients.Select(r => $"{r.Recipient}: {r.Reply}")));
            Assert.All(result.Recipients, r => Assert.Equal("2.0.0", r.Reply.EnhancedCode));
        }

        await Quit(async, client);

        byte[][] expected = [.. messages.Select(DeliveredMail.AsStored).OrderBy(Convert.ToHexString, StringComparer.Ordinal)];
        foreach (string user in new[] { first, second })
        {
            var stored = DeliveredMail.Read(Dovecot, user);
            Assert.All(stored, s => Assert.Equal("<sender@example.net>", s.ReturnPath));
            Assert.Equal(expected, stored.Select(s => s.Message).OrderBy(Convert.ToHexString, StringComparer.Ordinal));
        }
    }

    [DovecotLmtpTheory]
    [MemberData(nameof(Paths))]
    public async Task An_unknown_recipient_is_refused_while_the_others_get_the_message(bool async, bool unix, bool pipelining)
    {
        var (known, _) = Dovecot.AddUser([]);
        byte[] message = SampleMail.Message(1);
        using LmtpClient client = await Connect(async, Endpoint(unix), new LmtpClientOptions { UsePipelining = pipelining });

        LmtpDeliveryResult result = await Deliver(async, client, "", ["nobody-here@example.org", $"{known}@example.org"], message);
        Assert.Equal(LmtpRecipientStatus.PermanentFailure, result["nobody-here@example.org"].Status);
        Assert.Equal(550, result["nobody-here@example.org"].Reply.Code);
        Assert.Equal("5.1.1", result["nobody-here@example.org"].Reply.EnhancedCode);
        Assert.Equal(LmtpRecipientStatus.Delivered, result[$"{known}@example.org"].Status);

        // Only unknown recipients: nothing to send; the session is reset and goes on.
        LmtpDeliveryResult none = await Deliver(async, client, "", ["nobody-here@example.org"], message);
        Assert.Equal(LmtpRecipientStatus.PermanentFailure, Assert.Single(none.Recipients).Status);
        Assert.True((await Deliver(async, client, "", [known], message)).AllDelivered);
        await Quit(async, client);

        var stored = DeliveredMail.Read(Dovecot, known);
        Assert.Equal(2, stored.Count);
        Assert.All(stored, s => Assert.Equal("<>", s.ReturnPath));
        Assert.All(stored, s => Assert.Equal(DeliveredMail.AsStored(message), s.Message));
    }

    [DovecotLmtpTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_envelope_sender_comes_from_the_messages_return_path(bool async)
    {
        var (user, _) = Dovecot.AddUser([]);
        byte[] withPath = Encoding.ASCII.GetBytes("Return-Path: <bounces+123@lists.example.net>\r\nSubject: list mail\r\n\r\nhello\r\n");
        byte[] without = SampleMail.Message(2);
        using LmtpClient client = await Connect(async, LmtpEndpoint.Tcp(Dovecot.Host, Dovecot.LmtpPort));
        foreach (byte[] message in new[] { withPath, without })
        {
            var stream = new MemoryStream(message);
            string sender = ReturnPathHeader.ReadSender(stream);
            LmtpDeliveryResult result = async
                ? await client.DeliverAsync(sender, [user], stream)
                : client.Deliver(sender, [user], stream);
            Assert.True(result.AllDelivered);
        }

        await Quit(async, client);
        Assert.Equal(["<>", "<bounces+123@lists.example.net>"], DeliveredMail.Read(Dovecot, user).Select(s => s.ReturnPath).Order(StringComparer.Ordinal));
    }
}
