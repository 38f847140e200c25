using System.Text;
using Poplib.Tests.Infrastructure;
using Poplib.Tests.Interop.Lab;

namespace Poplib.Tests.Interop;

/// <summary>
/// The interop suite: every command, every way of logging in, TLS, lockstep latency, <c>poplib fetch</c>
/// and the CLI's parity with Python's poplib, against one real server of the lab — the one its
/// concrete subclass names with <see cref="InteropServerAttribute"/> (<c>Interop/Servers/</c>). What
/// the server offers, changes and must be chosen is in its <see cref="RealServer"/> descriptor; the
/// tests are written once. Each test that reads or changes mail first has the lab regenerate the
/// server's mailbox (<see cref="LabMailbox.Standard"/>), so tests never depend on each other's
/// deletions; the tests of one server run one after another (one class), and the servers are run
/// one at a time by <c>scripts/test.sh</c> (filter <c>Category=Interop&amp;Server=NAME</c>).
/// </summary>
public abstract partial class InteropSuite
{
    private protected InteropSuite() => Server = InteropServerAttribute.Of(GetType());

    private protected RealServer Server { get; }

    private protected static LabMailbox Mailbox => LabMailbox.Standard;

    /// <summary>Gives the server a freshly generated <see cref="LabMailbox.Standard"/> (the lab's <c>FRESH=1 start.sh</c>).</summary>
    private protected LabMailbox FreshMailbox()
    {
        Pop3Lab.Start(Server.Name, Mailbox, fresh: true);
        return Mailbox;
    }

    /// <summary>Connects as <paramref name="link"/> says: in plain text, then STLS, or with TLS from the first byte.</summary>
    private protected async Task<Pop3Client> ConnectAsync(bool async, Link link, Pop3ClientOptions? options = null)
    {
        options ??= Pop3Lab.Options(allowInsecure: link == Link.Plain);
        switch (link)
        {
            case Link.ImplicitTls:
                return await Both.ConnectSsl(async, Pop3Lab.Host, Server.TlsPort ?? throw new InvalidOperationException($"{Server} has no TLS port."), options);
            case Link.Stls:
                Pop3Client client = await Both.Connect(async, Server.Port, options);
                try
                {
                    await Both.Run(async, () => client.Stls(), () => client.StlsAsync());
                }
                catch
                {
                    client.Dispose();
                    throw;
                }

                return client;
            default:
                return await Both.Connect(async, Server.Port, options);
        }
    }

    /// <summary>Connects (over <see cref="RealServer.Preferred"/> unless told otherwise) and logs in with <c>Login</c>.</summary>
    private protected async Task<Pop3Client> OpenSessionAsync(bool async, Link? link = null)
    {
        Pop3Client client = await ConnectAsync(async, link ?? Server.Preferred);
        try
        {
            await LoginAsync(async, client);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary><c>Login</c> with the lab's user, down the sync or the async path.</summary>
    private protected static Task LoginAsync(bool async, Pop3Client client) =>
        Both.Run(async, () => client.Login(Pop3Lab.User, Pop3Lab.Password), () => client.LoginAsync(Pop3Lab.User, Pop3Lab.Password));

    /// <summary>After a login: it was <paramref name="method"/>, the whole mailbox is there, and QUIT ends the session.</summary>
    private protected static async Task AssertLoggedInAndQuitAsync(bool async, Pop3Client client, string? method)
    {
        Assert.Equal(method, client.AuthenticationMethod);
        Assert.Equal(Mailbox.Count, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    /// <summary>
    /// Reads every message with RETR and checks it against the generated one, changed only as the
    /// server is documented to change it; returns what RETR returned and which generated message it
    /// is. Without <paramref name="count"/>, the mailbox must hold every generated message, in
    /// delivery order where the server keeps it. Sends UIDL first: GNU pop3d adds X-UIDL only to
    /// messages whose UIDL it has told.
    /// </summary>
    private protected async Task<ServedMessage[]> RetrieveAllAsync(bool async, Pop3Client client, int? count = null)
    {
        IReadOnlyList<Pop3UidlEntry> uids = await Both.Run(async, client.Uidl, () => client.UidlAsync());
        Assert.Equal(Enumerable.Range(1, count ?? Mailbox.Count), uids.Select(u => u.Number));
        var served = new ServedMessage[uids.Count];
        foreach (Pop3UidlEntry uid in uids)
        {
            Pop3Message message = await Both.Run(async, () => client.Retr(uid.Number), () => client.RetrAsync(uid.Number));
            served[uid.Number - 1] = Check(uid, message.ToArray());
        }

        Assert.Equal(served.Length, served.Select(m => m.Sequence).Distinct().Count());
        if (count is null)
        {
            Assert.Equal(Enumerable.Range(1, Mailbox.Count), served.Select(m => m.Sequence).Order());
            if (Server.DeliveryOrder)
                Assert.Equal(Enumerable.Range(1, Mailbox.Count), served.Select(m => m.Sequence));
        }

        return served;
    }

    /// <summary>Checks a retrieved message against the generated one it carries the sequence number of.</summary>
    private protected ServedMessage Check(Pop3UidlEntry uid, byte[] actual)
    {
        int sequence = LabMailbox.SequenceOf(actual);
        Assert.True(sequence is > 0 && sequence <= Mailbox.Count, $"message {uid.Number} has no X-Lab-Seq header of the generated mailbox");
        AssertSameBytes(Server.Expected(Mailbox.Messages[sequence - 1], uid.Uid, actual), actual, $"{Server} message {uid.Number} (generated {sequence})");
        return new ServedMessage(uid.Number, sequence, uid.Uid, actual);
    }

    /// <summary>Byte-for-byte equality, reported as the first difference with some text around it.</summary>
    private protected static void AssertSameBytes(ReadOnlyMemory<byte> expected, ReadOnlyMemory<byte> actual, string what)
    {
        int at = expected.Span.CommonPrefixLength(actual.Span);
        if (at == expected.Length && at == actual.Length)
            return;
        string Around(ReadOnlyMemory<byte> bytes)
        {
            int start = Math.Max(0, at - 40);
            return Printable(bytes.Span[start..Math.Min(bytes.Length, at + 40)]);
        }

        Assert.Fail($"{what}: {actual.Length} octets where {expected.Length} were expected; they differ from offset {at}:\n" +
            $"  expected …{Around(expected)}…\n  actual   …{Around(actual)}…");
    }

    private static string Printable(ReadOnlySpan<byte> bytes) =>
        Encoding.UTF8.GetString(bytes).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);

    /// <summary>A message as the server served it: its number, the generated message it is, its UIDL and its bytes.</summary>
    private protected sealed record ServedMessage(int Number, int Sequence, string Uid, byte[] Content);
}
