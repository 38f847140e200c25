using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Poplib.Tests.Lmtp;

/// <summary>
/// A small LMTP server for the destination's tests: lockstep (no PIPELINING), each message's final
/// reply per recipient decided by <see cref="Reply"/>; it keeps what it accepted (dots unstuffed,
/// CRLF made LF, as a mail server stores it), and can misbehave: garbage, silence, 421.
/// </summary>
internal sealed class FakeLmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _sessions = [];
    private readonly Lock _gate = new();
    private readonly List<(string Sender, string Recipient, byte[] Message)> _accepted = [];
    private readonly Task _accepting;
    private int _messages;

    public FakeLmtpServer()
    {
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>The reply after the data for (message number from 1 across all sessions, recipient); default 250.</summary>
    public Func<int, string, string> Reply { get; set; } = (_, _) => "250 2.0.0 Saved";

    /// <summary>The greeting (null: say nothing, hang).</summary>
    public string? Greeting { get; set; } = "220 fake LMTP ready";

    /// <summary>Answer the MAIL after this many messages of a session with 421 and close (0: never).</summary>
    public int CloseAfter { get; set; }

    public int Connections { get; private set; }

    public IReadOnlyList<(string Sender, string Recipient, byte[] Message)> Accepted
    {
        get
        {
            lock (_gate)
                return [.. _accepted];
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Connections++;
            lock (_gate)
                _sessions.Add(Task.Run(() => SessionAsync(client)));
        }
    }

    private async Task SessionAsync(TcpClient client)
    {
        using TcpClient owned = client;
        try
        {
            NetworkStream stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.Latin1);
            async Task Say(string line) => await stream.WriteAsync(Encoding.Latin1.GetBytes(line + "\r\n"), _stop.Token);
            if (Greeting is null)
            {
                await Task.Delay(Timeout.Infinite, _stop.Token);
                return;
            }

            await Say(Greeting);
            string sender = "";
            var recipients = new List<string>();
            int inSession = 0;
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                string verb = line.Split(' ', 2)[0].ToUpperInvariant();
                if (verb == "MAIL" && CloseAfter > 0 && inSession >= CloseAfter)
                {
                    // As servers that close idle or long sessions do: the next command is answered 421.
                    await Say("421 4.3.2 closing");
                    return;
                }

                switch (verb)
                {
                    case "LHLO":
                        await Say("250-fake\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES");
                        break;
                    case "MAIL":
                        sender = Between(line);
                        recipients.Clear();
                        await Say("250 2.1.0 OK");
                        break;
                    case "RCPT":
                        recipients.Add(Between(line));
                        await Say("250 2.1.5 OK");
                        break;
                    case "DATA":
                        await Say("354 go ahead");
                        var body = new StringBuilder();
                        while (await reader.ReadLineAsync(_stop.Token) is { } data && data != ".")
                            body.Append(data.StartsWith('.') ? data[1..] : data).Append('\n');
                        int number = Interlocked.Increment(ref _messages);
                        inSession++;
                        foreach (string recipient in recipients)
                        {
                            string reply = Reply(number, recipient);
                            if (reply.StartsWith('2'))
                            {
                                lock (_gate)
                                    _accepted.Add((sender, recipient, Encoding.Latin1.GetBytes(body.ToString())));
                            }

                            await Say(reply);
                        }

                        break;
                    case "RSET":
                        await Say("250 2.0.0 OK");
                        break;
                    case "QUIT":
                        await Say("221 2.0.0 bye");
                        return;
                    default:
                        await Say("500 5.5.1 what?");
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static string Between(string line)
    {
        int open = line.IndexOf('<', StringComparison.Ordinal);
        int close = line.IndexOf('>', StringComparison.Ordinal);
        return open >= 0 && close > open ? line[(open + 1)..close] : "";
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] sessions;
        lock (_gate)
            sessions = [.. _sessions];
        await Task.WhenAll(sessions);
        _stop.Dispose();
    }
}
