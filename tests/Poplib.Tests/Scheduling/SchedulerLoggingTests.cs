using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Poplib.Fetch;
using Poplib.Fetch.Scheduling;

namespace Poplib.Tests.Scheduling;

public class SchedulerLoggingTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public async Task One_line_per_run_information_on_success_warning_on_failure_error_with_the_exception_on_a_throw()
    {
        var log = new EntryLogger();
        var scheduler = new FetchScheduler(
            [new FetchAccountSchedule("ok", S(3600)), new FetchAccountSchedule("busy", S(3600)), new FetchAccountSchedule("boom", S(3600))],
            (name, _) => name switch
            {
                "ok" => Task.FromResult(FetchRunOutcome.Success() with { MessagesDelivered = 2, OctetsDelivered = 2048 }),
                "busy" => Task.FromResult(FetchRunOutcome.Failure(FetchFailure.InUse, "mailbox locked")),
                _ => throw new InvalidOperationException("kaput"),
            },
            new FetchSchedulerOptions
            {
                MaxInitialSpread = TimeSpan.Zero,
                Backoff = BackoffPolicy.Default with { JitterFraction = 0 },
                Logger = log,
            });
        using var stop = new CancellationTokenSource();
        Task run = scheduler.RunAsync(stop.Token);
        for (int i = 0; i < 5000 && log.Entries.Count < 3; i++)
            await Task.Delay(1);
        stop.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(3, log.Entries.Count);
        (LogLevel level, string text, Exception? exception) ok = Assert.Single(log.Entries, e => e.Text.Contains("ok"));
        Assert.Equal(LogLevel.Information, ok.level);
        Assert.StartsWith("Account ok: 2 messages (2048 octets) in ", ok.text);
        Assert.EndsWith("next run in 3600 s", ok.text);
        (LogLevel level, string text, Exception? exception) busy = Assert.Single(log.Entries, e => e.Text.Contains("busy"));
        Assert.Equal(LogLevel.Warning, busy.level);
        Assert.Contains("failed (InUse: mailbox locked) after 0 messages", busy.text);
        Assert.EndsWith("next run in 30 s", busy.text);
        (LogLevel level, string text, Exception? exception) boom = Assert.Single(log.Entries, e => e.Text.Contains("boom"));
        Assert.Equal(LogLevel.Error, boom.level);
        Assert.IsType<InvalidOperationException>(boom.exception);
    }

    private sealed class EntryLogger : ILogger
    {
        private readonly ConcurrentQueue<(LogLevel Level, string Text, Exception? Exception)> _entries = new();

        public IReadOnlyList<(LogLevel Level, string Text, Exception? Exception)> Entries => [.. _entries];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _entries.Enqueue((logLevel, formatter(state, exception), exception));
    }
}
