using System.Diagnostics;
using System.Text;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

/// <summary>
/// CommandTimeout bounds the time one command waits for the server in all, however steadily the
/// server dribbles (each read within Timeout); the caller's own time between reads is not counted.
/// </summary>
public class CommandDeadlineTests
{
    private static Pop3ClientOptions Options(double commandSeconds = 2) => new()
    {
        AllowInsecureAuthentication = true,
        Timeout = TimeSpan.FromSeconds(1),
        CommandTimeout = TimeSpan.FromSeconds(commandSeconds),
    };

    /// <summary>Sends <paramref name="text"/> one byte every 300 ms, until done or the client hangs up.</summary>
    private static Func<Stream, CancellationToken, Task> Dribble(string text) => async (stream, ct) =>
    {
        try
        {
            foreach (byte b in Encoding.ASCII.GetBytes(text))
            {
                await stream.WriteAsync(new[] { b }, ct);
                await Task.Delay(300, ct);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client gave up.
        }
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_server_dribbling_one_byte_at_a_time_is_stopped_at_the_command_deadline(bool async)
    {
        // "+OK 1 120" at 300 ms a byte takes 3.3 s: every read is well within the 1 s timeout.
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("STAT").Do(Dribble("+OK 1 120\r\n")));
        using Pop3Client client = await Both.LogIn(async, server.Port, Options());

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TimeoutException>(() => Both.Run(async, client.Stat, () => client.StatAsync()));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.8), TimeSpan.FromSeconds(3));
        Assert.Contains("CommandTimeout", error.Message);
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connecting_and_the_greeting_share_one_deadline(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Do(Dribble("+OK a slow greeting\r\n")));

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TimeoutException>(() => Both.Connect(async, server.Port, Options()));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.8), TimeSpan.FromSeconds(3));
        Assert.Contains("CommandTimeout", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Each_message_of_a_pipelined_batch_has_its_own_deadline(bool async)
    {
        // Three replies 700 ms apart: 2.1 s for the batch, under 1 s of waiting for each message.
        string Reply(int n) => $"+OK\r\nSubject: {n}\r\n\r\nbody {n}\r\n.\r\n";
        await using var server = ScriptedServer.Start(s => s.LoggedIn(["USER", "PIPELINING"])
            .Expect("RETR 1").Expect("RETR 2").Expect("RETR 3")
            .Delay(TimeSpan.FromMilliseconds(700)).SendRaw(Reply(1))
            .Delay(TimeSpan.FromMilliseconds(700)).SendRaw(Reply(2))
            .Delay(TimeSpan.FromMilliseconds(700)).SendRaw(Reply(3))
            .On("NOOP", "+OK"));
        using Pop3Client client = await Both.LogIn(async, server.Port, Options(commandSeconds: 1));

        var subjects = new List<string>();
        if (async)
        {
            await foreach (Pop3BatchMessage message in client.RetrManyAsync([1, 2, 3]))
                subjects.Add(new StreamReader(message.Content).ReadLine()!);
        }
        else
        {
            foreach (Pop3BatchMessage message in client.RetrMany([1, 2, 3]))
                subjects.Add(new StreamReader(message.Content).ReadLine()!);
        }

        Assert.Equal(["Subject: 1", "Subject: 2", "Subject: 3"], subjects);
        await Both.Run(async, client.Noop, () => client.NoopAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_callers_own_time_between_reads_of_a_stream_does_not_count(bool async)
    {
        // 2 MB, more than the socket buffers hold, read in pieces with 1.5 s of pauses in all:
        // longer than the 1 s deadline, but the server is never waited for.
        byte[] line = Encoding.ASCII.GetBytes(new string('x', 98) + "\r\n");
        byte[] body = [.. Enumerable.Range(0, 20_000).SelectMany(_ => line)];
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1").SendRaw([.. "+OK\r\n"u8, .. body, .. ".\r\n"u8]).On("NOOP", "+OK"));
        using Pop3Client client = await Both.LogIn(async, server.Port, Options(commandSeconds: 1));

        await using Pop3MessageStream stream = await Both.Run(async, () => client.OpenRetr(1), () => client.OpenRetrAsync(1));
        byte[] buffer = new byte[400_000];
        long total = 0;
        int read;
        while ((read = async ? await stream.ReadAsync(buffer) : stream.Read(buffer)) > 0)
        {
            total += read;
            if (total < 1_500_000)
                await Task.Delay(300);
        }

        Assert.Equal(body.Length, total);
        await stream.DisposeAsync();
        await Both.Run(async, client.Noop, () => client.NoopAsync());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public async Task The_command_timeout_must_be_positive_or_infinite(int seconds)
    {
        var options = new Pop3ClientOptions { CommandTimeout = TimeSpan.FromSeconds(seconds) };
        Assert.Throws<ArgumentOutOfRangeException>(() => Pop3Client.Connect("127.0.0.1", 110, options));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Pop3Client.ConnectAsync("127.0.0.1", 110, options));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_infinite_command_timeout_leaves_only_the_per_read_timeout(bool async)
    {
        // 11 bytes at 300 ms: 3.3 s, more than any finite deadline used here, each read within 1 s.
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("STAT").Do(Dribble("+OK 1 120\r\n")));
        Pop3ClientOptions options = Options();
        options.CommandTimeout = Timeout.InfiniteTimeSpan;
        using Pop3Client client = await Both.LogIn(async, server.Port, options);

        Assert.Equal(new Pop3MailboxStatus(1, 120), await Both.Run(async, client.Stat, () => client.StatAsync()));
    }
}
