using Poplib.Tests.Infrastructure;
using Poplib.Tests.Interop.Lab;

namespace Poplib.Tests.Interop.Servers;

/// <summary>The interop suite against the lab's solid-pop3d (see <see cref="RealServer.SolidPop3d"/>), and its own quirks.</summary>
[InteropServer("solid-pop3d")]
public sealed class SolidPop3dInteropTests : InteropSuite
{
    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_fifth_wrong_command_of_a_session_closes_the_connection_and_the_next_call_says_so(bool async)
    {
        // WrongCommandsLimit (default 5): the CAPA of the connect was the first.
        FreshMailbox();
        using Pop3Client client = await OpenSessionAsync(async);
        Assert.False(client.Capabilities.IsSupported);
        for (int wrong = 2; wrong <= Server.WrongCommandLimit; wrong++)
            await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.List(99), () => client.ListAsync(99)));

        // The next command finds the connection closed: at its end (Pop3ProtocolException), or reset
        // (IOException) when the server's answer to the command arrives first.
        Exception closed = await Assert.ThrowsAnyAsync<Exception>(() => Both.Run(async, client.Noop, () => client.NoopAsync()));
        Assert.True(closed is Pop3ProtocolException or IOException, closed.ToString());
        Assert.False(client.IsConnected);
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Uidls_stay_while_numbers_follow_the_maildir_and_settle_after_the_first_session(bool async)
    {
        // The first session moves every message from new/ to cur/, and the numbers follow the
        // directory's order: after it they may all have changed (they did here), after that they stay.
        FreshMailbox();
        var sessions = new List<string[]>();
        for (int i = 0; i < 3; i++)
        {
            using Pop3Client client = await OpenSessionAsync(async);
            sessions.Add([.. (await Both.Run(async, client.Uidl, () => client.UidlAsync())).Select(u => u.Uid)]);
            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }

        Assert.Equal(sessions[0].Order(StringComparer.Ordinal), sessions[1].Order(StringComparer.Ordinal));
        Assert.Equal(sessions[1], sessions[2]);
    }
}
