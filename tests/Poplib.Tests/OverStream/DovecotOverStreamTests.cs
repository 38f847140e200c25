using Poplib.Tests.Interop;
using static Poplib.Tests.OverStream.ConnectOverStreamTests;

namespace Poplib.Tests.OverStream;

/// <summary>Dovecot over the caller's connection: implicit TLS and STLS over a NetworkStream, a stream that hides its socket, and a Socket; sync and async.</summary>
[Collection(nameof(DovecotCollection))]
public sealed class DovecotOverStreamTests(DovecotFixture fixture)
{
    [DovecotTheory]
    [MemberData(nameof(Cases), MemberType = typeof(ConnectOverStreamTests))]
    public async Task Dovecot_over_the_callers_connection(bool async, Over over, bool implicitTls)
    {
        DovecotInstance dovecot = fixture.Server;
        byte[][] messages = [SampleMail.Message(1), SampleMail.Tricky()];
        var (user, password) = dovecot.AddUser(messages);
        using Pop3Client client = await ConnectOver(async, over, implicitTls, "localhost", implicitTls ? dovecot.TlsPort : dovecot.PlainPort, dovecot.Options());
        await SessionAsync(async, client, implicitTls, user, password, messages);
    }
}
