using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Interop;

/// <summary>
/// The real Courier (1.0.16, Debian), sync and async, over STLS and over implicit TLS, with its
/// certificate trusted explicitly. Courier offers PIPELINING but drops whatever was sent behind a
/// successful login: a client that pipelines CAPA after PASS waits for it until its timeout.
/// </summary>
public class CourierTests
{
    /// <summary>Connects over TLS: implicit on the TLS port, or STLS on the plain one.</summary>
    private static async Task<Pop3Client> ConnectTls(bool async, bool implicitTls, Pop3ClientOptions? options = null)
    {
        options ??= Courier.Options();
        if (implicitTls)
            return await Both.ConnectSsl(async, Courier.Host, Courier.TlsPort, options);
        Pop3Client client = await Both.Run(async,
            () => Pop3Client.Connect(Courier.Host, Courier.PlainPort, options),
            () => Pop3Client.ConnectAsync(Courier.Host, Courier.PlainPort, options));
        Assert.True(client.Capabilities.Stls);
        await Both.Run(async, () => client.Stls(), () => client.StlsAsync());
        return client;
    }

    /// <summary>STAT, LIST, UIDL and RETR (one by one, streamed and pipelined) agree with each other.</summary>
    private static async Task ReadsTheMailbox(bool async, Pop3Client client)
    {
        Pop3MailboxStatus stat = await Both.Run(async, client.Stat, () => client.StatAsync());
        Assert.True(stat.Count > 0, "the lab's mailbox is empty");

        IReadOnlyList<Pop3ListEntry> list = await Both.Run(async, client.List, () => client.ListAsync());
        Assert.Equal(Enumerable.Range(1, stat.Count), list.Select(e => e.Number));
        Assert.Equal(stat.Size, list.Sum(e => e.Size));
        Assert.Equal(list[0], await Both.Run(async, () => client.List(1), () => client.ListAsync(1)));

        IReadOnlyList<Pop3UidlEntry> uidl = await Both.Run(async, client.Uidl, () => client.UidlAsync());
        Assert.Equal(stat.Count, uidl.Select(u => u.Uid).Distinct().Count());
        Assert.Equal(uidl[^1], await Both.Run(async, () => client.Uidl(stat.Count), () => client.UidlAsync(stat.Count)));

        // Courier stores LF and sends CRLF; its LIST sizes count the CRs, so they match RETR.
        Pop3Message first = await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1));
        Assert.Equal(list[0].Size, first.Octets);
        var last = new MemoryStream();
        await Both.Run(async, () => client.RetrTo(stat.Count, last), () => client.RetrToAsync(stat.Count, last));
        Assert.Equal(list[^1].Size, last.Length);

        IEnumerable<Pop3ListEntry> some = list.Take(5);
        if (async)
        {
            await foreach (Pop3BatchMessage message in client.RetrManyAsync(some))
                Assert.Equal(list[message.Number - 1].Size, await Drain(message.Content));
        }
        else
        {
            foreach (Pop3BatchMessage message in client.RetrMany(some))
                Assert.Equal(list[message.Number - 1].Size, await Drain(message.Content));
        }
    }

    private static async Task<long> Drain(Stream content)
    {
        var sink = new MemoryStream();
        await content.CopyToAsync(sink);
        return sink.Length;
    }

    [CourierTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Login_chooses_auth_plain_over_tls_and_reads_the_mailbox(bool async, bool implicitTls)
    {
        using Pop3Client client = await ConnectTls(async, implicitTls);
        Assert.True(client.IsEncrypted);
        // Courier offers SASL PLAIN LOGIN, USER and PIPELINING, and no APOP: PLAIN is the strongest.
        Assert.Equal(["PLAIN", "LOGIN"], client.Capabilities.SaslMechanisms);
        Assert.Null(client.ApopTimestamp);

        await Both.Run(async, () => client.Login(Courier.User, Courier.Password), () => client.LoginAsync(Courier.User, Courier.Password));
        Assert.Equal("AUTH PLAIN", client.AuthenticationMethod);
        await ReadsTheMailbox(async, client);
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    [CourierTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task User_pass_completes_although_courier_drops_what_was_pipelined_behind_it(bool async, bool implicitTls)
    {
        // A CAPA sent in the same write as PASS is never answered: such a login would end in a
        // TimeoutException after the whole timeout, here 5 s.
        Pop3ClientOptions options = Courier.Options();
        options.Timeout = TimeSpan.FromSeconds(5);
        using Pop3Client client = await ConnectTls(async, implicitTls, options);
        Assert.True(client.Capabilities.Pipelining);

        await Both.Run(async, () => client.User(Courier.User), () => client.UserAsync(Courier.User));
        Pop3Response pass = await Both.Run(async, () => client.Pass(Courier.Password), () => client.PassAsync(Courier.Password));
        Assert.Equal("+OK logged in.", pass.Line);
        Assert.Equal("USER/PASS", client.AuthenticationMethod);
        Assert.True(client.Capabilities.IsSupported); // read again after the login
        Assert.Equal("Courier Mail Server", client.Capabilities.Implementation);
        await ReadsTheMailbox(async, client);
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    [CourierTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Without_tls_login_is_refused_before_anything_is_sent_unless_opted_in(bool async)
    {
        using (Pop3Client client = await Both.Connect(async, Courier.PlainPort, Courier.Options()))
        {
            var refused = await Assert.ThrowsAsync<Pop3AuthenticationException>(() =>
                Both.Run(async, () => client.Login(Courier.User, Courier.Password), () => client.LoginAsync(Courier.User, Courier.Password)));
            Assert.Equal(Pop3AuthenticationFailure.InsecureConnection, refused.Reason);
            Assert.Contains("the server offers STLS", refused.Message);
            Assert.True(client.IsConnected);
        }

        using Pop3Client opted = await Both.Connect(async, Courier.PlainPort, Courier.Options(allowInsecure: true));
        await Both.Run(async, () => opted.Login(Courier.User, Courier.Password), () => opted.LoginAsync(Courier.User, Courier.Password));
        Assert.Equal("AUTH PLAIN", opted.AuthenticationMethod);
        Assert.True((await Both.Run(async, opted.Stat, () => opted.StatAsync())).Count > 0);
        await Both.Run(async, opted.Quit, () => opted.QuitAsync());
    }
}
