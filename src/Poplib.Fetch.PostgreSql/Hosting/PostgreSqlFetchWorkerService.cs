using Microsoft.Extensions.Hosting;
using Poplib.Fetch.PostgreSql.Workers;

namespace Poplib.Fetch.PostgreSql.Hosting;

/// <summary>
/// A <see cref="PostgreSqlFetchWorker"/> as a hosted service: runs until the host stops, then stops gracefully (runs in flight
/// get the worker's grace period, record their next run and release their leases). Register one per process; start as many
/// processes as the load needs.
/// </summary>
/// <param name="database">The shared database (the service does not dispose it).</param>
/// <param name="options">The worker's options, or null for the defaults.</param>
public sealed class PostgreSqlFetchWorkerService(PostgreSqlFetchDatabase database, PostgreSqlFetchWorkerOptions? options = null) : BackgroundService
{
    /// <summary>The worker (for its counters).</summary>
    public PostgreSqlFetchWorker Worker { get; } = new(database, options);

    /// <inheritdoc/>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Worker.RunAsync(stoppingToken);
}
