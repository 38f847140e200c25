using System.Buffers;
using System.Net.Security;
using Poplib.Sasl;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Negotiate;

/// <summary>
/// RFC 4752's security-layer negotiation from the client's side, against a Kerberos acceptor the test
/// drives by hand (the realm's keytab) so that it can say what a real server would not: no "none"
/// layer, the wrong number of octets, a message not wrapped with the session's key, +OK too early.
/// </summary>
[Collection(nameof(KdcCollection))]
public class GssapiSecurityLayerTests(KdcFixture kdc)
{
    /// <summary>A client mechanism and an acceptor with the context established between them (mutual authentication done).</summary>
    private (SaslGssapi Client, NegotiateAuthentication Acceptor) Established(string authorizationId = "")
    {
        _ = kdc.Directory;
        var client = new SaslGssapi(kdc.Principal, KdcFixture.Password) { AuthorizationId = authorizationId };
        client.Start("localhost", tls: null);
        var acceptor = new NegotiateAuthentication(new NegotiateAuthenticationServerOptions { Package = "Kerberos" });
        byte[] apRep = acceptor.GetOutgoingBlob(client.Respond(default), out NegotiateAuthenticationStatusCode status)!;
        Assert.Equal(NegotiateAuthenticationStatusCode.Completed, status);
        Assert.Empty(client.Respond(apRep)); // the AP-REP checked: the server has proven itself; RFC 4752's empty answer
        return (client, acceptor);
    }

    private static byte[] Wrap(NegotiateAuthentication acceptor, byte[] message)
    {
        var wrapped = new ArrayBufferWriter<byte>();
        Assert.Equal(NegotiateAuthenticationStatusCode.Completed, acceptor.Wrap(message, wrapped, requestEncryption: false, out _));
        return wrapped.WrittenSpan.ToArray();
    }

    [KerberosTheory]
    [InlineData("alice@POPLIB.TEST")]
    [InlineData("")]
    public void The_client_chooses_no_layer_a_zero_size_and_its_authorization_id(string authorizationId)
    {
        (SaslGssapi client, NegotiateAuthentication acceptor) = Established(authorizationId);
        using (client)
        using (acceptor)
        {
            byte[] answer = client.Respond(Wrap(acceptor, [0x07, 0x00, 0x10, 0x00])); // every layer offered, 4 KiB
            var unwrapped = new ArrayBufferWriter<byte>();
            Assert.Equal(NegotiateAuthenticationStatusCode.Completed, acceptor.Unwrap(answer, unwrapped, out bool encrypted));
            Assert.False(encrypted);
            Assert.Equal([0x01, 0x00, 0x00, 0x00, .. System.Text.Encoding.UTF8.GetBytes(authorizationId)], unwrapped.WrittenSpan.ToArray());
            client.Complete();
        }
    }

    public static TheoryData<byte[], string> BadOffers => new()
    {
        { new byte[] { 0x06, 0x00, 0x10, 0x00 }, "requires a GSSAPI security layer" },
        { new byte[] { 0x01, 0x00, 0x10 }, "holds 3 octets instead of 4" },
        { new byte[] { 0x01, 0x00, 0x10, 0x00, 0x00 }, "holds 5 octets instead of 4" },
    };

    [KerberosTheory]
    [MemberData(nameof(BadOffers))]
    public void An_offer_without_the_none_layer_or_of_the_wrong_size_is_refused(byte[] offer, string expected)
    {
        (SaslGssapi client, NegotiateAuthentication acceptor) = Established();
        using (client)
        using (acceptor)
        {
            var error = Assert.Throws<SaslException>(() => client.Respond(Wrap(acceptor, offer)));
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
            Assert.False(error.ServerNotAuthenticated);
        }
    }

    [KerberosTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_layer_message_not_wrapped_with_the_session_key_means_an_impostor(bool plainOctets)
    {
        (SaslGssapi client, NegotiateAuthentication acceptor) = Established();
        using (client)
        using (acceptor)
        {
            byte[] forged = plainOctets ? [0x01, 0x00, 0x00, 0x00] : Wrap(acceptor, [0x01, 0x00, 0x00, 0x00]);
            if (!plainOctets)
                forged[^1] ^= 0x55; // the checksum no longer matches
            var error = Assert.Throws<SaslException>(() => client.Respond(forged));
            Assert.True(error.ServerNotAuthenticated);
        }
    }

    [KerberosTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Ok_before_the_security_layer_closes_the_connection(bool async)
    {
        _ = kdc.Directory;
        // The AP-REQ is too long for the AUTH line (RFC 5034: 255 octets), so it follows the server's empty challenge.
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("SASL GSSAPI")
            .Expect("AUTH GSSAPI").Send("+ ").Expect(null)
            .Send("+OK welcome, whoever you are").ExpectHangUp());
        Pop3ClientOptions options = Both.Plain();
        using Pop3Client client = await Both.Run(async, () => Pop3Client.Connect("localhost", server.Port, options), () => Pop3Client.ConnectAsync("localhost", server.Port, options));
        using var gssapi = new SaslGssapi(kdc.Principal, KdcFixture.Password);
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => NegotiateWorld.Auth(async, client, gssapi));
        Assert.Equal(Pop3AuthenticationFailure.ServerNotAuthenticated, error.Reason);
        Assert.False(client.IsConnected);
        await server.VerifyAsync();
    }
}
