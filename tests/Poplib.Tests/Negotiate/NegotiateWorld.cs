using Poplib.Testing;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Negotiate;

/// <summary>An in-process server offering NTLM and/or GSSAPI, checked by the platform's own acceptors, and clients for it.</summary>
internal static class NegotiateWorld
{
    public const string Domain = "POPLIB";

    public static async Task<Pop3TestServer> StartAsync(Pop3SaslMechanisms mechanisms, Pop3TlsMode tls = Pop3TlsMode.Implicit, bool requireChannelBinding = false)
    {
        Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions
        {
            Tls = tls,
            SaslMechanisms = mechanisms,
            NtlmDomain = Domain,
            RequireChannelBinding = requireChannelBinding,
        });
        return server;
    }

    /// <summary>A user with a mailbox of <paramref name="messages"/> sample messages, under a name no other test uses.</summary>
    public static string AddUser(Pop3TestServer server, string password, int messages = 2, string? name = null)
    {
        name ??= "u" + Guid.NewGuid().ToString("N")[..10];
        server.AddUser(name, password, Pop3Mailbox.FromMessages([.. Enumerable.Range(1, messages).Select(n => Interop.SampleMail.Message(n))]));
        return name;
    }

    /// <summary>Connects to "localhost" (the name in the service principal pop/localhost and in the certificate), over TLS unless the server has none.</summary>
    public static Task<Pop3Client> Connect(bool async, Pop3TestServer server, bool tls = true, bool allowInsecure = false)
    {
        var options = new Pop3ClientOptions
        {
            SslOptions = TestCertificates.Trusting(server.Certificate),
            AllowInsecureAuthentication = allowInsecure,
            Timeout = TimeSpan.FromSeconds(20),
        };
        return tls ? Both.ConnectSsl(async, "localhost", server.Port, options)
            : Both.Run(async, () => Pop3Client.Connect("localhost", server.Port, options), () => Pop3Client.ConnectAsync("localhost", server.Port, options));
    }

    public static Task<Pop3Response> Auth(bool async, Pop3Client client, Sasl.ISaslMechanism mechanism) =>
        Both.Run(async, () => client.Auth(mechanism), () => client.AuthAsync(mechanism));

    public static Task<Pop3Response> Login(bool async, Pop3Client client, string user, string password) =>
        Both.Run(async, () => client.Login(user, password), () => client.LoginAsync(user, password));

    public static Task<Pop3MailboxStatus> Stat(bool async, Pop3Client client) =>
        Both.Run(async, client.Stat, () => client.StatAsync());
}
