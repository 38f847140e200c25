using System.Text;
using Poplib.Testing.Tests.Infrastructure;

namespace Poplib.Testing.Tests.Faults;

/// <summary>
/// Each profile of <see cref="Pop3ServerProfiles"/> through a whole session of the real client, as
/// the interop suite runs one against the real server: login (the method <c>Login</c> must choose),
/// STAT, UIDL, LIST, RETR, TOP, DELE and QUIT, sync and async.
/// </summary>
public class ServerProfileTests
{
    private static readonly byte[][] Messages =
    [
        "From: a@example.org\nSubject: one\n\nFrom the start of a line\n.a dot\n.\nend\n"u8.ToArray(),
        "From: b@example.org\nSubject: two\n\n>From quoted\nline 2\nline 3\nline 4\n"u8.ToArray(),
        "From: c@example.org\r\nSubject: three\r\n\r\nplain\r\n"u8.ToArray(),
    ];

    // profile, the login Login must choose, whether TOP sends a line more than asked
    public static TheoryData<string, string, bool, bool> Profiles()
    {
        var data = new TheoryData<string, string, bool, bool>();
        foreach ((string name, string login, bool topExcess) in new[]
        {
            ("Dovecot", "AUTH PLAIN", false), ("Popa3d", "USER/PASS", false), ("GnuMailutils", "APOP", true),
            ("Courier", "AUTH PLAIN", false), ("Cyrus", "AUTH PLAIN", false), ("SolidPop3d", "APOP", false),
        })
        {
            data.Add(name, login, topExcess, false);
            data.Add(name, login, topExcess, true);
        }

        return data;
    }

    private static Pop3TestServerOptions Profile(string name) => name switch
    {
        "Dovecot" => Pop3ServerProfiles.Dovecot(),
        "Popa3d" => Pop3ServerProfiles.Popa3d(),
        "GnuMailutils" => Pop3ServerProfiles.GnuMailutils(),
        "Courier" => Pop3ServerProfiles.Courier(),
        "Cyrus" => Pop3ServerProfiles.Cyrus(),
        _ => Pop3ServerProfiles.SolidPop3d(),
    };

    [Theory]
    [MemberData(nameof(Profiles))]
    public async Task A_whole_session_against_the_profile(string profile, string login, bool topExcess, bool async)
    {
        await using Pop3TestServer server = TestServer.Start(Profile(profile), Messages);
        using (Pop3Client client = await LogInAsync(async, server))
        {
            Assert.Equal(login, client.AuthenticationMethod);
            Assert.Equal(3, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
            IReadOnlyList<Pop3UidlEntry> uids = await Both.Run(async, client.Uidl, () => client.UidlAsync());
            IReadOnlyList<Pop3ListEntry> list = await Both.Run(async, client.List, () => client.ListAsync());
            Assert.Equal(3, uids.Select(u => u.Uid).Distinct().Count());
            foreach (Pop3ListEntry entry in list)
            {
                Pop3Message message = await Both.Run(async, () => client.Retr(entry.Number), () => client.RetrAsync(entry.Number));
                Assert.Equal(entry.Size, message.Octets);
                string text = Encoding.ASCII.GetString(message.Content.Span);
                Assert.Contains(text.Contains("one", StringComparison.Ordinal) ? "\r\n.a dot\r\n.\r\nend\r\n" : text.Contains("two", StringComparison.Ordinal) ? "line 4\r\n" : "plain\r\n", text, StringComparison.Ordinal);
            }

            Pop3Message top = await Both.Run(async, () => client.Top(1, 1), () => client.TopAsync(1, 1));
            Assert.Equal(topExcess, top.ExcessDiscarded);
            await Both.Run(async, () => client.Dele(1), () => client.DeleAsync(1));
            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }

        await Protocol.DeletionTests.Eventually(() => server.ActiveSessions == 0);
        using Pop3Client again = await LogInAsync(async, server);
        Assert.Equal(2, (await Both.Run(async, again.Stat, () => again.StatAsync())).Count);
    }

    [Fact]
    public void Each_call_returns_new_options()
    {
        Pop3TestServerOptions first = Pop3ServerProfiles.Cyrus();
        first.Faults = [];
        Assert.NotEmpty(Pop3ServerProfiles.Cyrus().Faults);
    }

    private static async Task<Pop3Client> LogInAsync(bool async, Pop3TestServer server)
    {
        Pop3Client client = await TestServer.Connect(async, server);
        if (client.Capabilities.Stls)
            await Both.Run(async, () => client.Stls(), () => client.StlsAsync());
        await Both.Run(async, () => client.Login(TestServer.User, TestServer.Password), () => client.LoginAsync(TestServer.User, TestServer.Password));
        return client;
    }
}
