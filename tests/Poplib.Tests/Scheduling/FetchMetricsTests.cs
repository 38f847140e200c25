using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using Poplib.Fetch;
using Poplib.Fetch.Observability;
using Poplib.Fetch.Scheduling;

namespace Poplib.Tests.Scheduling;

public class FetchMetricsTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void Runs_failures_deliveries_and_durations_are_counted_with_their_tags()
    {
        var time = new FakeTimeProvider(SchedulerHarness.Epoch);
        using var metrics = new FetchMetrics(options: new FetchMetricsOptions { TimeProvider = time });
        using var collector = new MetricsCollector(metrics.Meter);
        Assert.Equal("Poplib.Fetch", metrics.Meter.Name);

        metrics.RecordRun("alice", FetchRunOutcome.Success() with { MessagesDelivered = 3, OctetsDelivered = 12_000 }, S(1.5));
        metrics.RecordRun("alice", FetchRunOutcome.Failure(FetchFailure.InUse, "locked") with { MessagesDelivered = 1, OctetsDelivered = 500 }, S(0.25));
        metrics.RecordRun("bob", FetchRunOutcome.Failure(FetchFailure.Authentication), S(0.5));

        Assert.Equal(3, collector.Sum("poplib.fetch.runs"));
        Assert.Equal(1, collector.Sum("poplib.fetch.runs", m => m.Tag(FetchMetrics.AccountTag) == "alice" && m.Tag(FetchMetrics.OutcomeTag) == "success"));
        Assert.Equal(1, collector.Sum("poplib.fetch.runs", m => m.Tag(FetchMetrics.OutcomeTag) == "in_use"));
        Assert.Equal(2, collector.Sum("poplib.fetch.failures"));
        Assert.Equal(1, collector.Sum("poplib.fetch.failures", m => m.Tag(FetchMetrics.AccountTag) == "bob" && m.Tag(FetchMetrics.FailureKindTag) == "authentication"));
        Assert.Equal(4, collector.Sum("poplib.fetch.messages.delivered", m => m.Tag(FetchMetrics.AccountTag) == "alice"));
        Assert.Equal(12_500, collector.Sum("poplib.fetch.octets.delivered"));
        Assert.Equal([1.5, 0.25, 0.5], collector.Of("poplib.fetch.run.duration").Select(m => m.Value));
        Assert.Equal("in_use", collector.Of("poplib.fetch.run.duration").ElementAt(1).Tag(FetchMetrics.OutcomeTag));
    }

    [Fact]
    public void The_last_success_gauge_reports_each_accounts_age_and_forgets_removed_accounts()
    {
        var time = new FakeTimeProvider(SchedulerHarness.Epoch);
        using var metrics = new FetchMetrics(options: new FetchMetricsOptions { TimeProvider = time });
        using var collector = new MetricsCollector(metrics.Meter);

        metrics.RecordRun("alice", FetchRunOutcome.Success(), S(1));
        time.Advance(S(30));
        metrics.RecordRun("bob", FetchRunOutcome.Success(), S(1));
        metrics.RecordRun("carol", FetchRunOutcome.Failure(FetchFailure.Connection), S(1));
        time.Advance(S(12));

        var ages = collector.Observe("poplib.fetch.last_success.age").ToDictionary(m => m.Tag(FetchMetrics.AccountTag)!, m => m.Value);
        Assert.Equal(new Dictionary<string, double> { ["alice"] = 42, ["bob"] = 12 }, ages);

        metrics.ForgetAccount("alice");
        Assert.Equal(["bob"], collector.Observe("poplib.fetch.last_success.age").Select(m => m.Tag(FetchMetrics.AccountTag)));
    }

    [Fact]
    public void Without_the_account_tag_series_aggregate_and_the_gauge_reports_the_oldest_success()
    {
        var time = new FakeTimeProvider(SchedulerHarness.Epoch);
        using var metrics = new FetchMetrics(options: new FetchMetricsOptions { TimeProvider = time, IncludeAccountTag = false });
        using var collector = new MetricsCollector(metrics.Meter);

        metrics.RecordRun("alice", FetchRunOutcome.Success() with { MessagesDelivered = 2 }, S(1));
        time.Advance(S(10));
        metrics.RecordRun("bob", FetchRunOutcome.Failure(FetchFailure.Timeout), S(1));
        metrics.RecordRun("carol", FetchRunOutcome.Success(), S(1));
        time.Advance(S(5));

        Assert.All(collector.All, m => Assert.Null(m.Tag(FetchMetrics.AccountTag)));
        Assert.Equal(3, collector.Sum("poplib.fetch.runs"));
        Assert.Equal(1, collector.Sum("poplib.fetch.failures", m => m.Tag(FetchMetrics.FailureKindTag) == "timeout"));
        Assert.Equal(2, collector.Sum("poplib.fetch.messages.delivered"));
        Measured age = Assert.Single(collector.Observe("poplib.fetch.last_success.age"));
        Assert.Equal(15, age.Value);
        Assert.Empty(age.Tags);
    }

    [Fact]
    public void A_meter_factorys_meter_is_used_and_left_to_the_factory()
    {
        using var factory = new TestMeterFactory();
        var metrics = new FetchMetrics(factory);
        Meter meter = Assert.Single(factory.Meters);
        Assert.Same(meter, metrics.Meter);
        Assert.Equal(FetchMetrics.MeterName, meter.Name);
        using var collector = new MetricsCollector(meter);
        metrics.Dispose();
        metrics.RecordRun("alice", FetchRunOutcome.Success(), S(1)); // the meter still works: the factory owns it
        Assert.Equal(1, collector.Sum("poplib.fetch.runs"));
    }

    [Fact]
    public void Every_failure_kind_has_a_snake_case_tag()
    {
        string[] tags = [.. Enum.GetValues<FetchFailure>().Select(FetchMetrics.TagValue)];
        Assert.DoesNotContain("unknown", tags);
        Assert.Equal(tags.Length, tags.Distinct().Count());
        Assert.All(tags, t => Assert.Matches("^[a-z]+(_[a-z]+)*$", t));
    }

    [Fact]
    public async Task The_scheduler_records_every_run()
    {
        using var metrics = new FetchMetrics();
        using var collector = new MetricsCollector(metrics.Meter);
        await using (var h = new SchedulerHarness([new("ok", S(1)), new("bad", S(1))],
            (name, _, _) => name == "ok" ? new RunScript(S(0.5), FetchRunOutcome.Success() with { MessagesDelivered = 1, OctetsDelivered = 100 })
                                         : RunScript.Fail(FetchFailure.ServerTemporary, 0.5),
            _ => new FetchSchedulerOptions { Metrics = metrics, Backoff = BackoffPolicy.Default with { FailureDelays = [S(2)] } }))
        {
            await h.StartAsync();
            await h.AdvanceAsync(S(20));
            FetchAccountStatus ok = h.Scheduler.GetStatus("ok")!, bad = h.Scheduler.GetStatus("bad")!;
            Assert.Equal(ok.Runs, collector.Sum("poplib.fetch.runs", m => m.Tag(FetchMetrics.AccountTag) == "ok"));
            Assert.Equal(bad.Runs, collector.Sum("poplib.fetch.failures", m => m.Tag(FetchMetrics.FailureKindTag) == "server_temporary"));
            Assert.Equal(ok.Runs * 100, collector.Sum("poplib.fetch.octets.delivered"));
            Assert.All(collector.Of("poplib.fetch.run.duration"), m => Assert.Equal(0.5, m.Value, 3));

            h.Scheduler.UpdateAccounts([new("bad", S(1))]);
            await h.AdvanceAsync(S(1)); // a run of "ok" in flight finishes first, then "ok" leaves
            Assert.Null(h.Scheduler.GetStatus("ok"));
            Assert.DoesNotContain(collector.Observe("poplib.fetch.last_success.age"), m => m.Tag(FetchMetrics.AccountTag) == "ok");
        }
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        public List<Meter> Meters { get; } = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            Meters.Add(meter);
            return meter;
        }

        public void Dispose() => Meters.ForEach(m => m.Dispose());
    }
}
