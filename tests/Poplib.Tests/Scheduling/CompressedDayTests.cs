using Poplib.Fetch;
using Poplib.Fetch.Observability;
using Poplib.Fetch.Scheduling;

namespace Poplib.Tests.Scheduling;

/// <summary>
/// Issue 14's "24-hour behaviour compressed into a test", for the scheduler: 20 accounts at a 1-second interval for 90 s of
/// fake time, servers failing and recovering, one mailbox <c>[IN-USE]</c>, one server enforcing a 5-second LOGIN-DELAY, one
/// wrong password. Every assertion is on the schedule (run counts and gaps per account), none on wall-clock tightness.
/// </summary>
public class CompressedDayTests
{
    private const double Step = 0.05;
    private static readonly TimeSpan Simulated = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan LoginDelay = TimeSpan.FromSeconds(5);

    private static readonly BackoffPolicy Policy = BackoffPolicy.Default with
    {
        FailureDelays = [S(2), S(4), S(8)],
        MaximumFailureDelay = S(8),
        PermanentFailureDelay = S(10),
        MaximumPermanentFailureDelay = S(60),
        UnknownLoginDelay = S(5),
    };

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    /// <summary>A fake POP3 mailbox: a message arrives every 3 s; a successful run takes all that have arrived.</summary>
    private sealed class Mailbox(int offsetTenths)
    {
        private int _next;

        public List<int> Delivered { get; } = [];

        public int ArrivedBy(TimeSpan t) => (int)Math.Floor((t.TotalSeconds - offsetTenths / 10.0) / 3) + 1;

        public FetchRunOutcome Deliver(TimeSpan now, TimeSpan? loginDelay = null)
        {
            int arrived = Math.Max(ArrivedBy(now), 0);
            int count = arrived - _next;
            Delivered.AddRange(Enumerable.Range(_next, count));
            _next = arrived;
            return FetchRunOutcome.Success(loginDelay) with { MessagesDelivered = count, OctetsDelivered = count * 4096L };
        }
    }

    [Fact]
    public async Task Twenty_accounts_for_90_seconds_back_off_recover_and_honour_the_server()
    {
        string[] names = [.. Enumerable.Range(0, 20).Select(i => $"f{i:00}")];
        Dictionary<string, Mailbox> mailboxes = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => new Mailbox(p.i));
        TimeSpan lastLogin18 = S(-2); // somebody else logged in to f18 just before the daemon started
        int refusedLogins18 = 0;

        RunScript Script(string name, int index, DateTimeOffset startedAt)
        {
            TimeSpan t = startedAt - SchedulerHarness.Epoch;
            Mailbox box = mailboxes[name];
            RunScript Fail(FetchFailure kind, TimeSpan? minimum = null) => RunScript.Fail(kind, 0.2, minimum);
            RunScript Ok(TimeSpan? loginDelay = null) => new(S(0.2), box.Deliver(t, loginDelay));
            switch (name)
            {
                case "f14" or "f15" when t >= S(10) && t < S(40):
                    return Fail(FetchFailure.Connection);        // the server is down for 30 s
                case "f16" when t >= S(20) && t < S(30):
                    return Fail(FetchFailure.ServerTemporary);   // [SYS/TEMP] for 10 s
                case "f17" when t < S(20):
                    return Fail(FetchFailure.InUse);             // a phone holds the maildrop for 20 s
                case "f18":
                    if (t - lastLogin18 < LoginDelay)
                    {
                        refusedLogins18++;
                        return Fail(FetchFailure.LoginDelay, LoginDelay); // [LOGIN-DELAY], CAPA says 5 s
                    }
                    lastLogin18 = t;
                    return Ok(LoginDelay);
                case "f19":
                    return Fail(FetchFailure.Authentication);    // a wrong password, all day
                default:
                    return Ok();
            }
        }

        using var metrics = new FetchMetrics();
        using var collector = new MetricsCollector(metrics.Meter);
        await using var h = new SchedulerHarness(names.Select(n => new FetchAccountSchedule(n, S(1))), Script,
            _ => new FetchSchedulerOptions { MaxConcurrentRuns = 8, Backoff = Policy, MaxInitialSpread = S(1), Metrics = metrics });
        await h.StartAsync();
        await h.AdvanceAsync(Simulated, Step);
        h.Stop(); // let the runs in flight finish, so that every delivery has its run on record
        await h.AdvanceAsync(S(1), Step);
        await h.RunTask.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, h.Overlaps);
        Assert.InRange(h.MaxActive, 2, 8);
        Dictionary<string, IReadOnlyList<RunRecord>> runs = names.ToDictionary(n => n, h.RunsOf);

        // Every gap follows the policy: interval, ladder or server minimum, ±10 % jitter, one clock step of slack.
        foreach (string name in names)
            AssertGapsFollowThePolicy(name, runs[name]);

        // Healthy accounts: about one run per 1.2 s (1 s ± 10 % plus 0.2 s of run).
        foreach (string name in names.Take(14))
            Assert.InRange(runs[name].Count, 65, 85);

        // The two servers that were down: a handful of attempts during the 30 s outage instead of ~25, then back to normal
        // within one step of the ladder (8.8 s) after the server came back.
        foreach (string name in new[] { "f14", "f15" })
        {
            RunRecord[] outage = [.. runs[name].Where(r => r.Started - SchedulerHarness.Epoch >= S(10) && r.Started - SchedulerHarness.Epoch < S(40))];
            Assert.All(outage, r => Assert.Equal(FetchFailure.Connection, r.Outcome!.FailureKind));
            Assert.InRange(outage.Length, 5, 7); // ≈ 10, 12, 16, 24, 32 (+ 40) s
            RunRecord back = runs[name].First(r => r.Started - SchedulerHarness.Epoch >= S(40));
            Assert.True(back.Outcome!.Succeeded);
            Assert.InRange(back.Started - SchedulerHarness.Epoch, S(40), S(40 + 8.8 + 0.2 + Step));
            Assert.Equal(0, h.Scheduler.GetStatus(name)!.ConsecutiveFailures);
        }

        // [SYS/TEMP] for 10 s: 2 s, 4 s, 8 s, then success.
        Assert.InRange(runs["f16"].Count(r => !r.Outcome!.Succeeded), 3, 4);

        // [IN-USE] for 20 s: retried on the normal ladder (≈ 0, 2, 6, 14 s), then fetched every second.
        RunRecord[] inUse = [.. runs["f17"].TakeWhile(r => !r.Outcome!.Succeeded)];
        Assert.InRange(inUse.Length, 4, 5);
        Assert.All(inUse, r => Assert.Equal(FetchFailure.InUse, r.Outcome!.FailureKind));
        Assert.InRange(runs["f17"].Count, 50, 65);

        // LOGIN-DELAY 5 s: refused once at start (someone else had just logged in), never again; every login ≥ 5 s apart.
        Assert.Equal(1, refusedLogins18);
        Assert.Equal(FetchFailure.LoginDelay, runs["f18"][0].Outcome!.FailureKind);
        Assert.All(runs["f18"].Zip(runs["f18"].Skip(1)), p => Assert.True(p.Second.Started - p.First.Started >= LoginDelay));
        Assert.InRange(runs["f18"].Count, 15, 18); // one per 5.2–5.7 s

        // A wrong password is tried three times in 90 s (0, 10, 50 s), not ninety.
        Assert.Equal(3, runs["f19"].Count);
        Assert.Equal(3, h.Scheduler.GetStatus("f19")!.ConsecutiveFailures);
        Assert.Null(h.Scheduler.GetStatus("f19")!.LastSuccess);

        // Every message that arrived before an account's last successful login was delivered, once; the metrics agree.
        int delivered = 0;
        foreach (string name in names)
        {
            Mailbox box = mailboxes[name];
            Assert.Equal(box.Delivered.Count, box.Delivered.Distinct().Count());
            if (runs[name].LastOrDefault(r => r.Outcome!.Succeeded) is { } last)
                Assert.Equal(Enumerable.Range(0, box.ArrivedBy(last.Started - SchedulerHarness.Epoch)), box.Delivered);
            delivered += box.Delivered.Count;
        }
        Assert.Equal(delivered, collector.Sum("poplib.fetch.messages.delivered"));
        Assert.Equal(h.Records.Count, collector.Sum("poplib.fetch.runs"));
    }

    /// <summary>Each gap between a run's end and the next start, checked against what the policy allows after that run.</summary>
    private static void AssertGapsFollowThePolicy(string name, IReadOnlyList<RunRecord> runs)
    {
        int failures = 0;
        TimeSpan? known = null;
        for (int i = 0; i + 1 < runs.Count; i++)
        {
            FetchRunOutcome outcome = runs[i].Outcome!;
            if (outcome.Succeeded)
            {
                failures = 0;
                known = outcome.ServerDelay;
            }
            else
            {
                failures++;
            }
            TimeSpan expected = Policy.NextDelay(outcome, S(1), failures, known);
            TimeSpan floor = new[] { outcome.ServerDelay ?? TimeSpan.Zero, known ?? TimeSpan.Zero }.Max();
            TimeSpan low = (expected * (1 - Policy.JitterFraction) > floor ? expected * (1 - Policy.JitterFraction) : floor) - S(Step);
            TimeSpan high = expected * (1 + Policy.JitterFraction) + S(Step) + S(0.25); // 0.25 s: a wait for a free slot
            TimeSpan gap = runs[i + 1].Started - runs[i].Ended!.Value;
            Assert.True(gap >= low && gap <= high,
                $"{name}: after run {i} ({outcome}, {failures} failures) the gap was {gap.TotalSeconds:0.000} s, expected {low.TotalSeconds:0.000}–{high.TotalSeconds:0.000} s");
        }
    }
}
