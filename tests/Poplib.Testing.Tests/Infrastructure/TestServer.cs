using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Poplib.Testing.Tests.Infrastructure;

/// <summary>Starts a <see cref="Pop3TestServer"/> with user alice/secret and connects the real Poplib client to it.</summary>
internal static class TestServer
{
    public const string User = "alice";
    public const string Password = "secret";

    /// <summary>Three messages with LF endings, one with a line that starts with a dot.</summary>
    public static byte[][] SampleMessages =>
    [
        Encoding.ASCII.GetBytes("From: a@example.org\nSubject: one\n\nHello.\n"),
        Encoding.ASCII.GetBytes("From: b@example.org\nSubject: two\n\n.leading dot\n..two dots\n.\nend\n"),
        Encoding.ASCII.GetBytes("From: c@example.org\r\nSubject: three\r\n\r\nline 1\r\nline 2\r\nline 3\r\n"),
    ];

    public static Pop3TestServer Start(out Pop3MemoryMailbox mailbox, Pop3TestServerOptions? options = null, IEnumerable<byte[]>? messages = null)
    {
        var server = Pop3TestServer.Start(options ?? new Pop3TestServerOptions());
        mailbox = Pop3Mailbox.FromMessages(messages ?? SampleMessages);
        server.AddUser(User, Password, mailbox);
        return server;
    }

    public static Pop3TestServer Start(Pop3TestServerOptions? options = null, IEnumerable<byte[]>? messages = null) =>
        Start(out _, options, messages);

    /// <summary>The CRLF form every stored message must arrive in.</summary>
    public static byte[] Crlf(byte[] message) =>
        Encoding.Latin1.GetBytes(Encoding.Latin1.GetString(message).Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal));

    /// <summary>Client options that verify the server's certificate with it as the only trusted root, and a short timeout.</summary>
    public static Pop3ClientOptions ClientOptions(Pop3TestServer server, bool allowInsecure = true) => new()
    {
        AllowInsecureAuthentication = allowInsecure,
        Timeout = TimeSpan.FromSeconds(10),
        SslOptions = Trusting(server.Certificate),
    };

    public static SslClientAuthenticationOptions Trusting(X509Certificate2 root)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificate(root.RawData));
        return new SslClientAuthenticationOptions { CertificateChainPolicy = policy };
    }

    public static Task<Pop3Client> Connect(bool async, Pop3TestServer server, Pop3ClientOptions? options = null)
    {
        options ??= ClientOptions(server);
        return Both.Run(async, () => Pop3Client.Connect("localhost", server.Port, options), () => Pop3Client.ConnectAsync("localhost", server.Port, options));
    }

    public static Task<Pop3Client> ConnectSsl(bool async, Pop3TestServer server, Pop3ClientOptions? options = null)
    {
        options ??= ClientOptions(server);
        return Both.Run(async, () => Pop3Client.ConnectSsl("localhost", server.Port, options), () => Pop3Client.ConnectSslAsync("localhost", server.Port, options));
    }

    /// <summary>Connects and logs in with USER/PASS.</summary>
    public static async Task<Pop3Client> LogIn(bool async, Pop3TestServer server, Pop3ClientOptions? options = null)
    {
        Pop3Client client = await Connect(async, server, options);
        await Both.Run(async, () => client.User(User), () => client.UserAsync(User));
        await Both.Run(async, () => client.Pass(Password), () => client.PassAsync(Password));
        return client;
    }

    /// <summary>Asserts that RETR returns exactly <paramref name="expected"/> (UTF-8 text) and that LIST announced each size.</summary>
    public static async Task AssertServes(bool async, Pop3Client client, string[] expected)
    {
        IReadOnlyList<Pop3ListEntry> list = await Both.Run(async, () => client.List(), () => client.ListAsync());
        Assert.Equal(expected.Length, list.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            int number = i + 1;
            Pop3Message message = await Both.Run(async, () => client.Retr(number), () => client.RetrAsync(number));
            Assert.Equal(expected[i], Encoding.UTF8.GetString(message.Content.Span));
            Assert.Equal(message.Octets, list[i].Size);
        }
    }
}
