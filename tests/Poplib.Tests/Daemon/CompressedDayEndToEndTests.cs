using Poplib.Fetch;
using Poplib.Fetch.Hosting;
using Poplib.Fetch.Scheduling;
using Poplib.Testing;

namespace Poplib.Tests.Daemon;

/// <summary>
/// Issue 14's compressed day, end to end: the daemon over 20 in-process servers for a minute with 1-second intervals, mail
/// arriving all the time, servers failing and recovering, one account <c>[IN-USE]</c> for half the time, one announcing
/// LOGIN-DELAY. Every message is delivered once; the back-off is checked on the schedule the daemon reports (each failed run's
/// next run is exactly the policy's delay after its end), not on how punctually the machine woke up. The scheduler's own
/// compressed day (Scheduling/CompressedDayTests) covers hours on a fake clock; this one covers the real engine and sockets.
/// </summary>
public sealed class CompressedDayEndToEndTests
{
    private const int Accounts = 20;
    private const int InUse = 7;
    private const int LoginDelayAccount = 11;
    private static readonly TimeSpan LoginDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan[] FailureDelays = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    [Fact]
    public async Task Twenty_accounts_for_a_minute_every_message_once_and_back_off_on_the_schedule()
    {
        await using DaemonWorld world = await DaemonWorld.StartAsync(Accounts, messages: 2);
        int[] sent = [.. Enumerable.Repeat(2, Accounts)];
        world.Worlds[InUse].Server.Faults = [new LoginInUse()];
        world.Worlds[LoginDelayAccount].Server.Faults = [new CapabilityLines(["USER", "UIDL", "TOP", "RESP-CODES", "LOGIN-DELAY 5"])];
        var monitor = new TestOptionsMonitor<FetchDaemonOptions>(world.Options(Enumerable.Range(0, Accounts).Select(i => world.Account(i))));
        using var daemon = new FetchDaemon(monitor);

        var snapshots = new List<FetchAccountStatus>();
        using var sampling = new CancellationTokenSource();
        await daemon.StartAsync(CancellationToken.None);
        Task sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                lock (snapshots)
                    snapshots.AddRange(daemon.GetStatus().Where(s => !s.IsRunning && s.NextRun is not null));
                await Task.Delay(100);
            }
        });

        var random = new Random(14);
        DateTime end = DateTime.UtcNow.AddSeconds(60);
        for (int second = 0; DateTime.UtcNow < end; second++)
        {
            // Mail arrives: two messages a second somewhere.
            for (int k = 0; k < 2; k++)
            {
                int i = random.Next(Accounts);
                world.Worlds[i].Memory.Add(DaemonWorld.Message(i, ++sent[i]));
            }

            // Servers fail and recover: every 10 s three others break mid-message for 4 s.
            if (second % 10 == 0)
            {
                foreach (int i in new[] { (second / 10) % Accounts, ((second / 10) + 5) % Accounts, ((second / 10) + 13) % Accounts }.Where(i => i is not InUse and not LoginDelayAccount))
                    world.Worlds[i].Server.Faults = [new DisconnectAfterBytes(1, 5)];
            }
            else if (second % 10 == 4)
            {
                foreach (int i in Enumerable.Range(0, Accounts).Where(i => i is not InUse and not LoginDelayAccount))
                    world.Worlds[i].Server.Faults = [];
            }

            if (second == 30)
                world.Worlds[InUse].Server.Faults = []; // the phone holding the maildrop lets go

            await Task.Delay(1000);
        }

        foreach (int i in Enumerable.Range(0, Accounts).Where(i => i != LoginDelayAccount))
            world.Worlds[i].Server.Faults = [];
        await DaemonWorld.UntilAsync(daemon, () => Enumerable.Range(0, Accounts).All(i => world.Delivered(i).Count == sent[i]), "every message delivered", seconds: 60);
        await sampling.CancelAsync();
        await sampler;
        await daemon.StopAsync(CancellationToken.None);

        for (int i = 0; i < Accounts; i++)
        {
            Assert.Equal(sent[i], world.Delivered(i).Count);
            Assert.Equal(sent[i], world.Delivered(i).Distinct().Count());
        }

        FetchAccountStatus[] seen;
        lock (snapshots)
            seen = [.. snapshots];
        FetchAccountStatus[] failures = [.. seen.Where(s => s.LastOutcome is { Succeeded: false })];
        Assert.Contains(failures, s => s.Name == DaemonWorld.Name(InUse) && s.LastOutcome!.FailureKind == FetchFailure.InUse && s.ConsecutiveFailures >= 3);
        Assert.Contains(failures, s => s.LastOutcome!.FailureKind == FetchFailure.Protocol);
        Assert.All(failures, s => Assert.Equal(FailureDelays[Math.Min(s.ConsecutiveFailures, FailureDelays.Length) - 1], s.NextRun!.Value - s.LastRunEnded!.Value));
        Assert.All(seen.Where(s => s.Name == DaemonWorld.Name(LoginDelayAccount) && s.LastRunEnded is not null),
            s => Assert.True(s.NextRun!.Value - s.LastRunEnded!.Value >= LoginDelay, $"{s.NextRun} - {s.LastRunEnded}"));
        Assert.All(seen.Where(s => s.LastOutcome is { Succeeded: true } && s.Name != DaemonWorld.Name(LoginDelayAccount)),
            s => Assert.Equal(TimeSpan.FromSeconds(1), s.NextRun!.Value - s.LastRunEnded!.Value));
    }
}
