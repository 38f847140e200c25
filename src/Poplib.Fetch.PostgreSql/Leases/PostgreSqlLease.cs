using System.Diagnostics;
using Npgsql;
using Poplib.Fetch.State;

namespace Poplib.Fetch.PostgreSql.Leases;

/// <summary>
/// A lease on one mailbox, held by this process under a fencing token: renewed on its own timer (a third of the duration,
/// faster after a failed renewal), lost when a renewal finds it gone or when renewals keep failing until the safety margin
/// before its expiry. <see cref="EnsureHeld"/> decides on the local monotonic clock from the start of the last successful
/// renewal, which is never later than the database's own expiry; a process frozen by SIGSTOP sees the time that passed.
/// </summary>
internal sealed class PostgreSqlLease : IFetchLease
{
    private readonly PostgreSqlFetchDatabase _database;
    private readonly CancellationTokenSource _lost = new();
    private readonly Timer _timer;
    private readonly Lock _gate = new();
    private long _renewedAt; // Stopwatch timestamp at which the last successful renewal (or the claim) started
    private bool _renewing;
    private bool _disposed;

    private PostgreSqlLease(PostgreSqlFetchDatabase database, string account, long token, long claimedAt)
    {
        _database = database;
        Account = account;
        Token = token;
        _renewedAt = claimedAt;
        _timer = new Timer(static s => ((PostgreSqlLease)s!).Renew(), this, RenewEvery, RenewEvery);
    }

    public string Account { get; }

    public long Token { get; }

    public CancellationToken Lost => _lost.Token;

    private TimeSpan Duration => _database.Options.LeaseDuration;

    private TimeSpan RenewEvery => Duration / 3;

    /// <summary>How long before the lease's end this process stops trusting it: room for a write in flight to land.</summary>
    private TimeSpan Margin => TimeSpan.FromTicks(Math.Min(Duration.Ticks / 4, TimeSpan.FromSeconds(10).Ticks));

    /// <summary>Takes the lease on <paramref name="account"/> if nobody holds it (or its holder's lease expired), else null.</summary>
    public static PostgreSqlLease? TryAcquire(PostgreSqlFetchDatabase database, NpgsqlConnection connection, string account)
    {
        long started = Stopwatch.GetTimestamp();
        using var command = new NpgsqlCommand($"""
            INSERT INTO {database.Schema}.leases(account, owner, token, acquired, expires)
            VALUES (@account, @owner, nextval('{database.Schema}.lease_tokens'), clock_timestamp(), clock_timestamp() + @duration)
            ON CONFLICT (account) DO UPDATE SET owner = EXCLUDED.owner, token = EXCLUDED.token, acquired = EXCLUDED.acquired, expires = EXCLUDED.expires
                WHERE {database.Schema}.leases.expires <= clock_timestamp()
            RETURNING token
            """, connection);
        command.Parameters.AddWithValue("account", account);
        command.Parameters.AddWithValue("owner", database.Options.Owner);
        command.Parameters.AddWithValue("duration", database.Options.LeaseDuration);
        return command.ExecuteScalar() is long token ? new PostgreSqlLease(database, account, token, started) : null;
    }

    /// <summary>A lease a worker's claim took (in the claim's statement, which started at <paramref name="claimedAt"/>).</summary>
    public static PostgreSqlLease Claimed(PostgreSqlFetchDatabase database, string account, long token, long claimedAt) => new(database, account, token, claimedAt);

    public void EnsureHeld()
    {
        if (_lost.IsCancellationRequested || Stopwatch.GetElapsedTime(Volatile.Read(ref _renewedAt)) >= Duration - Margin)
        {
            MarkLost();
            throw new FetchException(FetchFailure.LeaseLost,
                $"the lease on {Account} (token {Token}) is no longer certainly held: stopped before recording or deleting anything more");
        }
    }

    private void Renew()
    {
        lock (_gate)
        {
            if (_renewing || _disposed || _lost.IsCancellationRequested)
                return;
            _renewing = true;
        }

        try
        {
            long started = Stopwatch.GetTimestamp();
            if (Stopwatch.GetElapsedTime(Volatile.Read(ref _renewedAt)) >= Duration - Margin)
            {
                MarkLost(); // too late already (a frozen process, a database away for too long)
                return;
            }

            using NpgsqlConnection connection = _database.Source.OpenConnection();
            using var command = new NpgsqlCommand($"""
                UPDATE {_database.Schema}.leases SET expires = clock_timestamp() + @duration
                WHERE account = @account AND token = @token AND expires > clock_timestamp()
                """, connection);
            command.Parameters.AddWithValue("duration", Duration);
            command.Parameters.AddWithValue("account", Account);
            command.Parameters.AddWithValue("token", Token);
            command.CommandTimeout = Math.Max(1, (int)(Duration / 3).TotalSeconds);
            if (command.ExecuteNonQuery() == 1)
            {
                Volatile.Write(ref _renewedAt, started);
                _timer.Change(RenewEvery, RenewEvery);
            }
            else
            {
                MarkLost(); // expired and maybe taken: another worker may hold the account now
            }
        }
#pragma warning disable CA1031 // A renewal that fails is retried soon; the lease is given up only when time runs out.
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or InvalidOperationException or System.Net.Sockets.SocketException)
#pragma warning restore CA1031
        {
            // Try again soon — but give the lease up on time if the database stays away: the next tick is never later
            // than the moment this process stops trusting it.
            TimeSpan left = Duration - Margin - Stopwatch.GetElapsedTime(Volatile.Read(ref _renewedAt));
            lock (_gate)
            {
                if (!_disposed)
                    _timer.Change(left <= TimeSpan.Zero ? TimeSpan.Zero : left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1), RenewEvery);
            }
        }
        finally
        {
            lock (_gate)
                _renewing = false;
        }
    }

    private void MarkLost()
    {
        try
        {
            _lost.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Stops renewing. The lease row is released by whoever ends the run (<see cref="Release"/>), or expires.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _timer.Dispose();
        }
    }

    /// <summary>Gives the lease up at once (another worker may take the account without waiting for the expiry); best effort.</summary>
    public void Release()
    {
        Dispose();
        try
        {
            using NpgsqlConnection connection = _database.Source.OpenConnection();
            using var command = new NpgsqlCommand($"DELETE FROM {_database.Schema}.leases WHERE account = @account AND token = @token", connection);
            command.Parameters.AddWithValue("account", Account);
            command.Parameters.AddWithValue("token", Token);
            command.ExecuteNonQuery();
        }
#pragma warning disable CA1031 // Not released: it expires by itself.
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or InvalidOperationException or System.Net.Sockets.SocketException)
#pragma warning restore CA1031
        {
        }
    }
}
