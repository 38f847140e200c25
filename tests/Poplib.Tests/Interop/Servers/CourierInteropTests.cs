using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Poplib.Tests.Infrastructure;
using Poplib.Tests.Interop.Lab;

namespace Poplib.Tests.Interop.Servers;

/// <summary>The interop suite against the lab's Courier (see <see cref="RealServer.Courier"/>), and Courier's own quirks.</summary>
[InteropServer("courier")]
public sealed class CourierInteropTests : InteropSuite
{
    [InteropFact]
    public async Task A_capa_pipelined_behind_a_successful_pass_is_never_answered()
    {
        // The quirk itself (Poplib.Testing's DiscardInputAfterLogin): courierpop3login hands the
        // connection to courierpop3d after the login, and what was sent behind PASS is lost. The client
        // never pipelines behind a login (User_pass_logs_in_and_the_capabilities_are_read_again).
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Pop3Lab.Host, Server.Port);
        using var reader = new StreamReader(tcp.GetStream(), Encoding.ASCII);
        Assert.StartsWith("+OK", await reader.ReadLineAsync());
        await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"USER {Pop3Lab.User}\r\nPASS {Pop3Lab.Password}\r\nCAPA\r\n"));
        Assert.StartsWith("+OK", await reader.ReadLineAsync());
        Assert.Equal("+OK logged in.", await reader.ReadLineAsync());
        await Task.Delay(500); // CAPA's answer, were there one, would be here by now
        await tcp.GetStream().WriteAsync("NOOP\r\n"u8.ToArray());
        Assert.Equal("+OK Yup.", await reader.ReadLineAsync());
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")] // the lab is Linux; CipherSuitesPolicy is not on Windows
    public async Task Stls_that_courier_cannot_go_on_with_fails_closed_and_quotes_its_error(bool async)
    {
        // With no cipher suite in common, Courier answers STLS "+OK", then a TLS alert, then
        // "-ERR STARTTLS failed: …" in plain text, and would take plain-text commands after it.
        Pop3ClientOptions options = Pop3Lab.Options();
        options.SslOptions!.EnabledSslProtocols = SslProtocols.Tls13;
        options.SslOptions.CipherSuitesPolicy = new CipherSuitesPolicy([TlsCipherSuite.TLS_AES_128_CCM_8_SHA256]);
        using Pop3Client client = await ConnectAsync(async, Link.Plain, options);
        Assert.True(client.Capabilities.Stls);

        var error = await Assert.ThrowsAsync<AuthenticationException>(() => Both.Run(async, () => client.Stls(), () => client.StlsAsync()));
        Assert.Contains("the server answered in plain text, \"-ERR STARTTLS failed: ", error.Message, StringComparison.Ordinal);
        Assert.False(client.IsConnected);
        Assert.False(client.IsEncrypted);
        await Assert.ThrowsAnyAsync<Exception>(() => LoginAsync(async, client));
    }
}
