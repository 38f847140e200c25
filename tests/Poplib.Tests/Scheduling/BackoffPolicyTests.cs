using Poplib.Fetch;
using Poplib.Fetch.Scheduling;

namespace Poplib.Tests.Scheduling;

public class BackoffPolicyTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);
    private static readonly BackoffPolicy Policy = BackoffPolicy.Default;

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    private static TimeSpan M(double minutes) => TimeSpan.FromMinutes(minutes);

    private static TimeSpan[] Sequence(BackoffPolicy policy, FetchRunOutcome outcome, int count, TimeSpan? interval = null) =>
        [.. Enumerable.Range(1, count).Select(n => policy.NextDelay(outcome, interval ?? Interval, n))];

    [Fact]
    public void Success_waits_the_interval_whatever_failed_before()
    {
        Assert.Equal(Interval, Policy.NextDelay(FetchRunOutcome.Success(), Interval, 0));
        Assert.Equal(Interval, Policy.NextDelay(FetchRunOutcome.Success(), Interval, 7));
    }

    [Fact]
    public void Success_never_comes_sooner_than_the_announced_login_delay()
    {
        Assert.Equal(M(15), Policy.NextDelay(FetchRunOutcome.Success(loginDelay: M(15)), Interval, 0));
        Assert.Equal(Interval, Policy.NextDelay(FetchRunOutcome.Success(loginDelay: M(1)), Interval, 0));
    }

    [Theory]
    [InlineData(FetchFailure.Connection)]
    [InlineData(FetchFailure.Timeout)]
    [InlineData(FetchFailure.Tls)]
    [InlineData(FetchFailure.InUse)]
    [InlineData(FetchFailure.ServerTemporary)]
    [InlineData(FetchFailure.Protocol)]
    [InlineData(FetchFailure.Destination)]
    [InlineData(FetchFailure.DestinationBusy)]
    [InlineData(FetchFailure.Rejected)]
    [InlineData(FetchFailure.State)]
    [InlineData(FetchFailure.RunTimeExceeded)]
    [InlineData(FetchFailure.Unexpected)]
    public void Transient_failures_escalate_30s_1m_2m_5m_15m_30m_then_1h_for_ever(FetchFailure kind)
    {
        Assert.False(FetchFailures.IsPermanent(kind));
        Assert.Equal([S(30), M(1), M(2), M(5), M(15), M(30), M(60), M(60), M(60)],
            Sequence(Policy, FetchRunOutcome.Failure(kind), 9));
    }

    [Theory]
    [InlineData(FetchFailure.Authentication)]
    [InlineData(FetchFailure.ServerPermanent)]
    [InlineData(FetchFailure.ServerRefused)]
    [InlineData(FetchFailure.Configuration)]
    [InlineData(FetchFailure.IdentityChanged)]
    public void Permanent_failures_start_at_15m_and_quadruple_to_6h(FetchFailure kind)
    {
        Assert.True(FetchFailures.IsPermanent(kind));
        Assert.Equal([M(15), M(60), M(240), M(360), M(360), M(360)], Sequence(Policy, FetchRunOutcome.Failure(kind), 6));
    }

    [Fact]
    public void A_wrong_password_is_never_retried_more_often_than_the_interval()
    {
        TimeSpan daily = TimeSpan.FromHours(24);
        Assert.Equal([daily, daily], Sequence(Policy, FetchRunOutcome.Failure(FetchFailure.Authentication), 2, daily));
    }

    [Fact]
    public void A_wrong_password_is_tried_at_most_four_times_in_five_hours()
    {
        TimeSpan total = TimeSpan.Zero;
        int attempts = 1;
        for (int n = 1; total + Policy.NextDelay(FetchRunOutcome.Failure(FetchFailure.Authentication), Interval, n) <= TimeSpan.FromHours(5); n++)
        {
            total += Policy.NextDelay(FetchRunOutcome.Failure(FetchFailure.Authentication), Interval, n);
            attempts++;
        }
        Assert.Equal(3, attempts); // t = 0, 15 min, 1 h 15 min; the next is at 5 h 15 min
    }

    [Fact]
    public void The_cap_bounds_transient_delays()
    {
        BackoffPolicy capped = Policy with { MaximumFailureDelay = M(3) };
        Assert.Equal([S(30), M(1), M(2), M(3), M(3)], Sequence(capped, FetchRunOutcome.Failure(FetchFailure.Connection), 5));
    }

    [Fact]
    public void A_custom_ladder_repeats_its_last_step()
    {
        BackoffPolicy custom = Policy with { FailureDelays = [S(2), S(4), S(8)], MaximumFailureDelay = S(8) };
        Assert.Equal([S(2), S(4), S(8), S(8)], Sequence(custom, FetchRunOutcome.Failure(FetchFailure.InUse), 4));
    }

    [Fact]
    public void Login_delay_waits_at_least_what_the_server_announced_even_past_the_cap()
    {
        Assert.Equal(M(2), Policy.NextDelay(FetchRunOutcome.Failure(FetchFailure.LoginDelay, minimumDelay: M(2)), Interval, 1));
        Assert.Equal(M(2), Policy.NextDelay(FetchRunOutcome.Failure(FetchFailure.LoginDelay, minimumDelay: M(2)), Interval, 2));
        Assert.Equal(M(5), Policy.NextDelay(FetchRunOutcome.Failure(FetchFailure.LoginDelay, minimumDelay: M(2)), Interval, 4));
        Assert.Equal(TimeSpan.FromHours(3),
            Policy.NextDelay(FetchRunOutcome.Failure(FetchFailure.LoginDelay, minimumDelay: TimeSpan.FromHours(3)), Interval, 1));
    }

    [Fact]
    public void Login_delay_without_an_announced_delay_waits_15_minutes()
    {
        Assert.Equal(M(15), Policy.NextDelay(FetchRunOutcome.Failure(FetchFailure.LoginDelay), Interval, 1));
        Assert.Equal(M(60), Policy.NextDelay(FetchRunOutcome.Failure(FetchFailure.LoginDelay), Interval, 7));
    }

    [Fact]
    public void A_known_login_delay_is_a_floor_under_every_delay()
    {
        Assert.Equal(M(10), Policy.NextDelay(FetchRunOutcome.Failure(FetchFailure.Connection), Interval, 1, knownLoginDelay: M(10)));
        Assert.Equal(M(10), Policy.NextDelay(FetchRunOutcome.Success(), Interval, 0, knownLoginDelay: M(10)));
    }

    [Fact]
    public void A_server_minimum_on_any_failure_is_honoured()
    {
        Assert.Equal(M(20), Policy.NextDelay(FetchRunOutcome.Failure(FetchFailure.ServerTemporary, minimumDelay: M(20)), Interval, 1));
    }

    [Fact]
    public void Another_local_process_holding_the_account_means_just_the_interval()
    {
        Assert.Equal([Interval, Interval, Interval], Sequence(Policy, FetchRunOutcome.Failure(FetchFailure.AccountLocked), 3));
    }

    [Fact]
    public void Jitter_stays_within_ten_percent_and_is_used()
    {
        var random = new Random(42);
        TimeSpan[] delays = [.. Enumerable.Range(0, 10_000).Select(_ => Policy.NextDelay(FetchRunOutcome.Success(), M(10), 0, random: random))];
        Assert.All(delays, d => Assert.InRange(d, M(9), M(11)));
        Assert.True(delays.Min() < M(9.1) && delays.Max() > M(10.9), $"jitter too narrow: {delays.Min()} .. {delays.Max()}");
        Assert.InRange(delays.Average(d => d.TotalMinutes), 9.95, 10.05);
    }

    [Fact]
    public void Jitter_is_repeatable_with_a_seed()
    {
        TimeSpan[] Draw() { var r = new Random(7); return [.. Enumerable.Range(0, 5).Select(_ => Policy.NextDelay(FetchRunOutcome.Success(), M(10), 0, random: r))]; }
        Assert.Equal(Draw(), Draw());
    }

    [Fact]
    public void Jitter_never_takes_a_delay_below_the_servers_minimum()
    {
        var random = new Random(1);
        for (int i = 0; i < 1000; i++)
        {
            TimeSpan d = Policy.NextDelay(FetchRunOutcome.Success(loginDelay: Interval), Interval, 0, random: random);
            Assert.InRange(d, Interval, Interval * 1.1);
        }
    }

    [Fact]
    public void Zero_jitter_is_exact()
    {
        BackoffPolicy none = Policy with { JitterFraction = 0 };
        Assert.Equal(Interval, none.NextDelay(FetchRunOutcome.Success(), Interval, 0, random: new Random(3)));
    }

    [Fact]
    public void Nonsense_settings_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Policy with { JitterFraction = 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => Policy with { JitterFraction = -0.1 });
        Assert.Throws<ArgumentException>(() => Policy with { FailureDelays = [] });
        Assert.Throws<ArgumentException>(() => Policy with { FailureDelays = [S(-1)] });
        Assert.Throws<ArgumentOutOfRangeException>(() => Policy with { PermanentFailureFactor = 0.5 });
        Assert.Throws<ArgumentOutOfRangeException>(() => Policy with { MaximumFailureDelay = S(-1) });
        Assert.Throws<ArgumentOutOfRangeException>(() => FetchRunOutcome.Failure(FetchFailure.LoginDelay, minimumDelay: S(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => FetchRunOutcome.Success() with { MessagesDelivered = -1 });
    }

    [Theory]
    [InlineData(Pop3ResponseCode.InUse, FetchFailure.InUse)]
    [InlineData(Pop3ResponseCode.LoginDelay, FetchFailure.LoginDelay)]
    [InlineData(Pop3ResponseCode.SysTemp, FetchFailure.ServerTemporary)]
    [InlineData(Pop3ResponseCode.SysPerm, FetchFailure.ServerPermanent)]
    [InlineData(Pop3ResponseCode.Auth, FetchFailure.Authentication)]
    public void Response_codes_map_onto_failure_kinds(Pop3ResponseCode code, FetchFailure kind) =>
        Assert.Equal(kind, FetchFailures.FromResponseCode(code));

    [Theory]
    [InlineData(Pop3ResponseCode.None)]
    [InlineData(Pop3ResponseCode.Utf8)]
    [InlineData(Pop3ResponseCode.Other)]
    public void Codes_that_say_nothing_about_scheduling_map_to_null(Pop3ResponseCode code) =>
        Assert.Null(FetchFailures.FromResponseCode(code));

    [Fact]
    public void Outcomes_describe_themselves()
    {
        Assert.Equal("success", FetchRunOutcome.Success().ToString());
        Assert.Equal("InUse: busy", FetchRunOutcome.Failure(FetchFailure.InUse, "busy").ToString());
        FetchRunOutcome counted = FetchRunOutcome.Success(M(1)) with { MessagesDelivered = 3, OctetsDelivered = 300 };
        Assert.True(counted.Succeeded);
        Assert.Equal((3, 300L, (TimeSpan?)M(1)), (counted.MessagesDelivered, counted.OctetsDelivered, counted.ServerDelay));
    }
}
