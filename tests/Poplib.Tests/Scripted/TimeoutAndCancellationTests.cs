using System.Diagnostics;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

public class TimeoutAndCancellationTests
{
    private static Pop3ClientOptions Quick() => new()
    {
        AllowInsecureAuthentication = true,
        Timeout = TimeSpan.FromMilliseconds(400),
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Silent_server_times_out_at_the_greeting(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Delay(TimeSpan.FromSeconds(30)));
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TimeoutException>(() => Both.Connect(async, server.Port, Quick()));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(10));
        Assert.Contains("timeout", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Server_that_stops_mid_body_times_out_and_closes(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1")
            .SendRaw("+OK\r\nSubject: slow\r\n\r\npart").Delay(TimeSpan.FromSeconds(30)));
        using Pop3Client client = await Both.Connect(async, server.Port, Quick());
        client.User("alice");
        client.Pass("secret");

        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => Both.Run(async, () => client.RetrTo(1, Stream.Null), () => client.RetrToAsync(1, Stream.Null)));
        Assert.False(client.IsConnected);
        // The next call reports the timeout that closed the connection, as a timeout.
        var after = await Assert.ThrowsAsync<TimeoutException>(() => Both.Run(async, client.Noop, () => client.NoopAsync()));
        Assert.Same(timeout, after.InnerException);
    }

    [Fact]
    public async Task Each_read_has_its_own_timeout_so_a_slow_but_steady_server_is_fine()
    {
        // Ten gaps of 150 ms each: longer than the 400 ms timeout in total, shorter each.
        await using var server = ScriptedServer.Start(s =>
        {
            s.LoggedIn().Expect("RETR 1").Send("+OK");
            for (int i = 0; i < 10; i++)
                s.Delay(TimeSpan.FromMilliseconds(150)).Send($"line {i}");
            s.Send(".");
        });
        using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, Quick());
        await client.UserAsync("alice");
        await client.PassAsync("secret");
        Assert.Equal(10, (await client.RetrAsync(1)).Lines.Count);
    }

    [Fact]
    public async Task Cancellation_while_waiting_throws_and_closes_the_connection()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("STAT").Delay(TimeSpan.FromSeconds(30)));
        using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, Both.Plain());
        await client.UserAsync("alice");
        await client.PassAsync("secret");

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.StatAsync(cts.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        // The reply may still arrive: the stream's position is unknown, so the connection is gone.
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task Cancellation_before_the_call_sends_nothing()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn());
        using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, Both.Plain());
        await client.UserAsync("alice");
        await client.PassAsync("secret");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.NoopAsync(new CancellationToken(canceled: true)));
        await server.VerifyAsync();
        Assert.DoesNotContain("NOOP", server.Received);
    }

    [Fact]
    public async Task Cancellation_of_a_streamed_read()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1").Send("+OK", "first").Delay(TimeSpan.FromSeconds(30)));
        using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, Both.Plain());
        await client.UserAsync("alice");
        await client.PassAsync("secret");
        Pop3MessageStream stream = await client.OpenRetrAsync(1);
        byte[] buffer = new byte[100];
        Assert.True(await stream.ReadAsync(buffer) > 0);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await stream.ReadAsync(buffer, cts.Token));
        await stream.DisposeAsync(); // nothing to drain on a closed connection; must not hang
        Assert.False(client.IsConnected);
    }
}
