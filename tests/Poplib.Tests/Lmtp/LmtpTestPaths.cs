using Poplib.Fetch.Delivery.Lmtp;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Lmtp;

/// <summary>The LMTP client's calls down the sync or the async path, and the scripted server's LMTP opening.</summary>
internal static class LmtpTestPaths
{
    public static Task<LmtpClient> Connect(bool async, LmtpEndpoint endpoint, LmtpClientOptions? options = null) =>
        Both.Run(async, () => LmtpClient.Connect(endpoint, options), () => LmtpClient.ConnectAsync(endpoint, options));

    public static Task<LmtpClient> Connect(bool async, ScriptedServer server, LmtpClientOptions? options = null) =>
        Connect(async, LmtpEndpoint.Tcp("127.0.0.1", server.Port), options);

    public static Task<LmtpDeliveryResult> Deliver(bool async, LmtpClient client, string sender, string[] recipients, byte[] message) =>
        Both.Run(async, () => client.Deliver(sender, recipients, new MemoryStream(message)),
            () => client.DeliverAsync(sender, recipients, new MemoryStream(message)));

    public static Task Quit(bool async, LmtpClient client) => Both.Run(async, client.Quit, () => client.QuitAsync());

    /// <summary>The greeting and the reply to LHLO, announcing <paramref name="extensions"/>.</summary>
    public static ScriptedServer.Script Lhlo(this ScriptedServer.Script script, params string[] extensions)
    {
        string[] lines = ["test.example", .. extensions];
        return script.Send("220 test.example LMTP ready")
            .On("LHLO localhost", [.. lines.Select((l, i) => (i == lines.Length - 1 ? "250 " : "250-") + l)]);
    }

    public static ScriptedServer.Script Quit(this ScriptedServer.Script script) =>
        script.On("QUIT", "221 2.0.0 Bye").ExpectHangUp();

    /// <summary>Expects <paramref name="message"/>'s lines (CRLF, as the client sends them) and the final dot.</summary>
    public static ScriptedServer.Script ExpectData(this ScriptedServer.Script script, params string[] lines)
    {
        foreach (string line in lines)
            script.Expect(line);
        return script.Expect(".");
    }
}
