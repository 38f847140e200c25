using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Poplib.Testing;
using Poplib.Tests.Infrastructure;
using Poplib.Tests.Interop;

namespace Poplib.Tests.OverStream;

/// <summary>
/// Sessions over a connection the caller made: a NetworkStream (its socket used), a stream that hides
/// its socket (timeouts by closing it), a Socket, an SslStream the caller authenticated; plain, STLS
/// and implicit TLS, against the in-process server, sync and async; who closes what (leaveOpen).
/// </summary>
public sealed class ConnectOverStreamTests
{
    public enum Over { NetworkStream, OpaqueStream, Socket }

    private static readonly byte[][] Messages = [SampleMail.Message(1), SampleMail.LongLines(20_000, 4)];

    private static async Task<Pop3TestServer> ServerAsync(Pop3TlsMode tls)
    {
        Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = tls, AllowPlaintextWithoutTls = false });
        server.AddUser("alice", "secret", Pop3Mailbox.FromMessages(Messages));
        return server;
    }

    internal static Socket ConnectedSocket(string host, int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(host, port);
        return socket;
    }

    /// <summary>Starts a session over <paramref name="over"/>, connected to <paramref name="port"/>.</summary>
    internal static Task<Pop3Client> ConnectOver(bool async, Over over, bool implicitTls, string host, int port, Pop3ClientOptions options, bool leaveOpen = false)
    {
        Socket socket = ConnectedSocket("127.0.0.1", port);
        if (over == Over.Socket)
        {
            return implicitTls
                ? Both.Run(async, () => Pop3Client.ConnectSsl(socket, host, options, leaveOpen), () => Pop3Client.ConnectSslAsync(socket, host, options, leaveOpen))
                : Both.Run(async, () => Pop3Client.Connect(socket, host, options, leaveOpen), () => Pop3Client.ConnectAsync(socket, host, options, leaveOpen));
        }

        Stream stream = over == Over.NetworkStream ? new NetworkStream(socket, ownsSocket: true) : new OpaqueStream(new NetworkStream(socket, ownsSocket: true));
        return implicitTls
            ? Both.Run(async, () => Pop3Client.ConnectSsl(stream, host, options, leaveOpen), () => Pop3Client.ConnectSslAsync(stream, host, options, leaveOpen))
            : Both.Run(async, () => Pop3Client.Connect(stream, host, options, leaveOpen), () => Pop3Client.ConnectAsync(stream, host, options, leaveOpen));
    }

    public static TheoryData<bool, Over, bool> Cases()
    {
        var data = new TheoryData<bool, Over, bool>();
        foreach (Over over in Enum.GetValues<Over>())
        {
            foreach (bool implicitTls in new[] { false, true })
            {
                data.Add(false, over, implicitTls);
                data.Add(true, over, implicitTls);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Test_server_over_the_callers_connection(bool async, Over over, bool implicitTls)
    {
        await using Pop3TestServer server = await ServerAsync(implicitTls ? Pop3TlsMode.Implicit : Pop3TlsMode.StartTls);
        var options = new Pop3ClientOptions { SslOptions = TestCertificates.Trusting(server.Certificate), Timeout = TimeSpan.FromSeconds(10) };
        using Pop3Client client = await ConnectOver(async, over, implicitTls, "localhost", server.Port, options);

        Assert.Equal("localhost", client.Host);
        Assert.Equal(over == Over.OpaqueStream ? 0 : server.Port, client.Port);
        await SessionAsync(async, client, implicitTls, "alice", "secret", Messages);
    }

    /// <summary>STLS when needed, login over TLS, every message byte for byte, QUIT.</summary>
    internal static async Task SessionAsync(bool async, Pop3Client client, bool implicitTls, string user, string password, byte[][] messages)
    {
        Assert.Equal(implicitTls, client.IsEncrypted);
        if (!implicitTls)
            await Both.Run(async, () => client.Stls(), () => client.StlsAsync());
        Assert.True(client.IsEncrypted);
        await Both.Run(async, () => client.Login(user, password), () => client.LoginAsync(user, password));
        for (int i = 0; i < messages.Length; i++)
            Assert.Equal(messages[i], (await Both.Run(async, () => client.Retr(i + 1), () => client.RetrAsync(i + 1))).ToArray());
        await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_SslStream_the_caller_authenticated_counts_as_encrypted(bool async)
    {
        await using Pop3TestServer server = await ServerAsync(Pop3TlsMode.Implicit);
        SslStream ssl = await AuthenticatedSslAsync(server);
        using Pop3Client client = await Both.Run(async, () => Pop3Client.Connect(ssl, "localhost"), () => Pop3Client.ConnectAsync(ssl, "localhost"));

        Assert.True(client.IsEncrypted);
        Assert.NotNull(client.RemoteCertificate);
        await Both.Run(async, () => client.Login("alice", "secret"), () => client.LoginAsync("alice", "secret"));   // no AllowInsecureAuthentication needed
        Assert.Equal(2, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Both.Run(async, () => client.Stls(), () => client.StlsAsync()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConnectSsl_over_an_authenticated_SslStream_is_refused_not_nested(bool async)
    {
        await using Pop3TestServer server = await ServerAsync(Pop3TlsMode.Implicit);
        SslStream ssl = await AuthenticatedSslAsync(server);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Both.Run(async, () => Pop3Client.ConnectSsl(ssl, "localhost"), () => Pop3Client.ConnectSslAsync(ssl, "localhost")));
        Assert.Contains("already encrypted", e.Message);
    }

    private static async Task<SslStream> AuthenticatedSslAsync(Pop3TestServer server)
    {
        var ssl = new SslStream(new NetworkStream(ConnectedSocket("127.0.0.1", server.Port), ownsSocket: true));
        await ssl.AuthenticateAsClientAsync(TestCertificates.Trusting(server.Certificate, "localhost"));
        return ssl;
    }

    public static TheoryData<bool, Over> Kinds() => Both.Paths(Over.NetworkStream, Over.OpaqueStream, Over.Socket);

    // leaveOpen: the caller's connection stays usable after Dispose (here: QUIT by hand); without it, it is closed.
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task LeaveOpen_decides_who_closes_the_connection(bool async, Over over)
    {
        await using Pop3TestServer server = await ServerAsync(Pop3TlsMode.None);
        foreach (bool leaveOpen in new[] { true, false })
        {
            Socket socket = ConnectedSocket("127.0.0.1", server.Port);
            var network = new NetworkStream(socket, ownsSocket: true);
            Stream stream = over == Over.OpaqueStream ? new OpaqueStream(network) : network;
            var options = new Pop3ClientOptions { Timeout = TimeSpan.FromSeconds(10) };
            Pop3Client client = over == Over.Socket
                ? await Both.Run(async, () => Pop3Client.Connect(socket, "localhost", options, leaveOpen), () => Pop3Client.ConnectAsync(socket, "localhost", options, leaveOpen))
                : await Both.Run(async, () => Pop3Client.Connect(stream, "localhost", options, leaveOpen), () => Pop3Client.ConnectAsync(stream, "localhost", options, leaveOpen));
            await Both.Run(async, () => client.Capa(), () => client.CapaAsync());
            await client.DisposeAsync();

            if (leaveOpen)
            {
                stream.Write("QUIT\r\n"u8);
                var reader = new StreamReader(stream, Encoding.ASCII);
                Assert.StartsWith("+OK", reader.ReadLine());
                stream.Dispose();
            }
            else
            {
                Assert.Throws<ObjectDisposedException>(() => socket.Send("QUIT\r\n"u8));
                if (stream is OpaqueStream opaque)
                    Assert.True(opaque.Disposed);
            }
        }
    }

    // A server that never speaks: each kind of connection is given up at the timeout, the opaque
    // stream (whose async read ignores the token) by closing it.
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_silent_server_times_out_over_every_kind_of_connection(bool async, Over over)
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var options = new Pop3ClientOptions { Timeout = TimeSpan.FromSeconds(1) };
        var stopwatch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<TimeoutException>(() => ConnectOver(async, over, implicitTls: false, "localhost", ((IPEndPoint)silent.LocalEndpoint).Port, options));
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
        Assert.Contains("Waiting for the server took longer than the timeout of 1 s", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_proxy_with_a_connected_stream_is_a_usage_error(bool async)
    {
        await using Pop3TestServer server = await ServerAsync(Pop3TlsMode.None);
        using var stream = new NetworkStream(ConnectedSocket("127.0.0.1", server.Port), ownsSocket: true);
        var options = new Pop3ClientOptions { Proxy = new Socks5Proxy("127.0.0.1", 1080) };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Both.Run(async, () => Pop3Client.Connect(stream, "localhost", options), () => Pop3Client.ConnectAsync(stream, "localhost", options)));
        Assert.Contains("already connected", e.Message);
    }
}
