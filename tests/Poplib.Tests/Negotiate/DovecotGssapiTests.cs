using Poplib.Sasl;
using Poplib.Tests.Infrastructure;
using Poplib.Tests.Interop;

namespace Poplib.Tests.Negotiate;

/// <summary>
/// The real-peer proof of AUTH GSSAPI: a private Dovecot (scripts/dovecot.sh --gssapi) with the service
/// key of pop/localhost from the private KDC, and the client with a ticket got from its password.
/// Dovecot's side is its own mech-gssapi over MIT Kerberos, no code of ours.
/// </summary>
[Collection(nameof(KdcCollection))]
public sealed class DovecotGssapiTests(KdcFixture kdc) : IDisposable
{
    private readonly Lazy<DovecotInstance> _dovecot = new(() => DovecotInstance.Start(strict: false, gssapiRealm: kdc.Directory));

    public void Dispose()
    {
        if (_dovecot.IsValueCreated)
            _dovecot.Value.Dispose();
    }

    [DovecotKerberosTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dovecot_takes_gssapi_over_tls_and_serves_the_mailbox(bool async)
    {
        DovecotInstance dovecot = _dovecot.Value;
        (string user, string password) = dovecot.AddUser([SampleMail.Message(1), SampleMail.Message(2)]);
        kdc.AddPrincipal(user, password + "-kerberos"); // another password: only Kerberos can let this login in

        using Pop3Client client = await Both.ConnectSsl(async, "localhost", dovecot.TlsPort, dovecot.Options());
        Assert.Contains("GSSAPI", client.Capabilities.SaslMechanisms);
        using var gssapi = new SaslGssapi($"{user}@{KdcFixture.Realm}", password + "-kerberos");
        await NegotiateWorld.Auth(async, client, gssapi);

        Assert.Equal("AUTH GSSAPI", client.AuthenticationMethod);
        Assert.True(gssapi.IsChannelBound); // sent; Dovecot passes no bindings to its acceptor, which then ignores them
        Assert.Equal(2, (await NegotiateWorld.Stat(async, client)).Count);
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }
}
