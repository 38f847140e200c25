using System.Net;
using System.Net.Sockets;
using Poplib.Fetch;
using Poplib.Fetch.State;
using Poplib.Testing;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Fetch;

/// <summary>What a scheduler gets when a run fails: a <see cref="FetchFailure"/> to decide on, never a message to parse.</summary>
public sealed class FailureTests
{
    [Fact]
    public async Task A_mailbox_in_use_is_InUse_and_temporary()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(2, new LoginInUse());
        var sink = new RecordingSink();

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(world.Account(FetchDestination.Sink(sink))));

        Assert.Equal(FetchFailure.InUse, failed.Failure);
        Assert.True(failed.IsTemporary);
        Assert.Equal(0, sink.Calls);
        Assert.Empty(world.State());
    }

    [Fact]
    public async Task Refused_credentials_are_Authentication_and_not_temporary()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(1);

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(world.Account(FetchDestination.Sink(new RecordingSink()), password: "wrong")));

        Assert.Equal(FetchFailure.Authentication, failed.Failure);
        Assert.False(failed.IsTemporary);
        Assert.Equal(1, world.Memory.Count);
    }

    [Fact]
    public async Task A_server_too_busy_is_ServerTemporary()
    {
        await using Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.None, MaxConnections = 1 });
        server.AddUser(EngineWorld.User, EngineWorld.Password, Pop3Mailbox.FromMessages([EngineWorld.Message(1)]));
        await using Pop3Client holder = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, new Pop3ClientOptions { AllowInsecureAuthentication = true });

        FetchException failed = await FailAgainstAsync(server.Port, EngineWorld.User, EngineWorld.Password);

        Assert.Equal(FetchFailure.ServerTemporary, failed.Failure);
        Assert.True(failed.IsTemporary);
    }

    [Fact]
    public async Task A_refused_connection_is_Connection()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        await using EngineWorld world = await EngineWorld.StartAsync(1);
        FetchAccount account = world.Account(FetchDestination.Sink(new RecordingSink())) with { Port = closedPort };

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(account));

        Assert.Equal(FetchFailure.Connection, failed.Failure);
        Assert.True(failed.IsTemporary);
        Assert.NotNull(failed.Result);
        Assert.Equal(0, failed.Result.Delivered);
    }

    [Fact]
    public async Task A_login_delay_refusal_is_LoginDelay_and_carries_the_servers_delay()
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("USER", "UIDL", "RESP-CODES", "LOGIN-DELAY 300")
            .On("USER alice", "+OK")
            .On("PASS secret", "-ERR [LOGIN-DELAY] wait five minutes between logins"));

        FetchException failed = await FailAgainstAsync(server.Port, "alice", "secret");

        Assert.Equal(FetchFailure.LoginDelay, failed.Failure);
        Assert.True(failed.IsTemporary);
        Assert.Equal(TimeSpan.FromSeconds(300), failed.LoginDelay);
        Assert.Equal(TimeSpan.FromSeconds(300), failed.Result!.LoginDelay);
    }

    [Fact]
    public async Task A_login_delay_announced_by_CAPA_is_on_the_result()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(1, new CapabilityLines(["USER", "UIDL", "TOP", "RESP-CODES", "PIPELINING", "LOGIN-DELAY 120"]));

        FetchResult result = await world.RunAsync(world.Account(FetchDestination.Sink(new RecordingSink())));

        Assert.Equal(1, result.Delivered);
        Assert.Equal(TimeSpan.FromSeconds(120), result.LoginDelay);
    }

    [Fact]
    public async Task A_second_run_of_the_same_account_while_one_runs_is_AccountLocked()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(2);
        var entered = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var slow = new RecordingSink
        {
            Before = async (_, _) =>
            {
                entered.TrySetResult();
                await release.Task;
            },
        };
        Task<FetchResult> first = world.RunAsync(world.Account(FetchDestination.Sink(slow)));
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(world.Account(FetchDestination.Sink(new RecordingSink()))));

        Assert.Equal(FetchFailure.AccountLocked, failed.Failure);
        Assert.True(failed.IsTemporary);
        release.SetResult();
        Assert.Equal(2, (await first).Delivered);
    }

    [Fact]
    public async Task A_UIDL_reset_refused_by_policy_is_IdentityChanged_and_fetches_nothing()
    {
        var mailbox = new Poplib.Tests.Cli.Fetch.RenumberingMailbox([EngineWorld.Message(1), EngineWorld.Message(2)]);
        await using EngineWorld world = await EngineWorld.StartAsync(mailbox);
        var sink = new RecordingSink();
        FetchAccount account = world.Account(FetchDestination.Sink(sink));
        Assert.Equal(2, (await world.RunAsync(account)).Delivered);
        mailbox.Generation++; // the server rebuilt its index: the same mail under new UIDLs
        mailbox.Add(EngineWorld.Message(3));

        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(account));

        Assert.Equal(FetchFailure.IdentityChanged, failed.Failure);
        Assert.False(failed.IsTemporary);
        Assert.DoesNotContain("--", failed.Message, StringComparison.Ordinal); // the CLI words its options; the engine does not
        Assert.Equal(2, sink.Calls);
    }

    /// <summary>One run against a server of the test's own (no <see cref="EngineWorld"/>), which must fail.</summary>
    private static async Task<FetchException> FailAgainstAsync(int port, string user, string password)
    {
        var account = new FetchAccount("127.0.0.1", user, _ => ValueTask.FromResult(password), FetchDestination.Sink(new RecordingSink()))
        {
            Port = port,
            Tls = FetchTls.None,
            ClientOptions = new Pop3ClientOptions { AllowInsecureAuthentication = true },
        };
        string folder = Path.Combine(Path.GetTempPath(), "poplib-engine-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            using SqliteFetchStateStore state = SqliteFetchStateStore.Open(Path.Combine(folder, "state", "fetch.sqlite"));
            return await Assert.ThrowsAsync<FetchException>(() => new Fetcher(account, state).RunAsync());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>The engine's outcome handed to the scheduler.</summary>
public sealed class FetchRunOutcomesTests
{
    [Fact]
    public async Task A_run_and_a_failed_run_become_the_schedulers_outcomes()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(2, new CapabilityLines(["USER", "UIDL", "TOP", "RESP-CODES", "PIPELINING", "LOGIN-DELAY 60"]));
        Poplib.Fetch.Scheduling.FetchRunOutcome success = Poplib.Fetch.Scheduling.FetchRunOutcomes.From(await world.RunAsync(world.Account(FetchDestination.Sink(new RecordingSink()))));
        Assert.True(success.Succeeded);
        Assert.Equal(2, success.MessagesDelivered);
        Assert.Equal(TimeSpan.FromSeconds(60), success.ServerDelay);

        world.Server.Faults = [new LoginInUse()];
        FetchException failed = await Assert.ThrowsAsync<FetchException>(() => world.RunAsync(world.Account(FetchDestination.Sink(new RecordingSink()))));
        Poplib.Fetch.Scheduling.FetchRunOutcome outcome = Poplib.Fetch.Scheduling.FetchRunOutcomes.From(failed);
        Assert.Equal(FetchFailure.InUse, outcome.FailureKind);
        Assert.Equal(failed.Message, outcome.Error);
    }

    [Fact]
    public void Every_engine_failure_is_classified_and_the_permanent_ones_stay_permanent()
    {
        FetchFailure[] permanent = [FetchFailure.Authentication, FetchFailure.ServerPermanent, FetchFailure.ServerRefused,
            FetchFailure.Configuration, FetchFailure.IdentityChanged];
        foreach (FetchFailure failure in Enum.GetValues<FetchFailure>())
            Assert.Equal(permanent.Contains(failure), FetchFailures.IsPermanent(failure));
        foreach (FetchFailure failure in Enum.GetValues<FetchFailure>().Where(f => new FetchException(f, "x").IsTemporary))
            Assert.False(FetchFailures.IsPermanent(failure), failure.ToString());
        Assert.All(Enum.GetValues<FetchFailure>(), f =>
            Assert.Equal(f is FetchFailure.AccountLocked or FetchFailure.Canceled or FetchFailure.LeaseLost, FetchFailures.IsNotTheAccountsFault(f)));
    }
}
