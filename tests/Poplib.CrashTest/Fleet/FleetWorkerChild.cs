using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Npgsql;
using Poplib.Fetch.PostgreSql;
using Poplib.Fetch.PostgreSql.Workers;
using Poplib.Fetch.Scheduling;

namespace Poplib.CrashTest.Fleet;

/// <summary>
/// <c>Poplib.CrashTest --fleet-worker CONNECTION LEASE_SECONDS PARALLEL</c>: a worker of the library flavour — an application
/// embedding <see cref="PostgreSqlFetchWorker"/> with its own sink (<see cref="TableSink"/>) instead of the CLI. The password
/// comes from PGPASSWORD; logs go to stderr, one line each; SIGTERM stops it gracefully (exit 0).
/// </summary>
internal static class FleetWorkerChild
{
    public const string Flag = "--fleet-worker";

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        if (args.Count != 4)
        {
            Console.Error.WriteLine($"usage: Poplib.CrashTest {Flag} CONNECTION LEASE_SECONDS PARALLEL");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        var logger = new LineLogger(Console.Error);
        await using PostgreSqlFetchDatabase database = await PostgreSqlFetchDatabase.OpenAsync(new PostgreSqlFetchOptions
        {
            ConnectionString = args[1],
            LeaseDuration = TimeSpan.FromSeconds(int.Parse(args[2], CultureInfo.InvariantCulture)),
        });
        await using NpgsqlDataSource sinkDatabase = NpgsqlDataSource.Create(args[1]);
        var worker = new PostgreSqlFetchWorker(database, new PostgreSqlFetchWorkerOptions
        {
            MaxConcurrentRuns = int.Parse(args[3], CultureInfo.InvariantCulture),
            PollInterval = TimeSpan.FromMilliseconds(500),
            Sink = new TableSink(sinkDatabase),
            Logger = logger,
            // A run cut short by a kill elsewhere or the database away is retried within seconds, not the default 30 s.
            Backoff = BackoffPolicy.Default with { FailureDelays = [TimeSpan.FromSeconds(1)] },
        });
        await worker.RunAsync(stop.Token);
        return 0;
    }

    /// <summary>One line per entry, as the CLI's console logger writes them (the harness looks for the database's outage lines).</summary>
    private sealed class LineLogger(TextWriter output) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            lock (output)
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel}: {formatter(state, exception)}");
        }
    }
}
