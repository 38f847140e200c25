using Npgsql;
using Poplib.Fetch;
using Poplib.Fetch.PostgreSql;
using Poplib.Fetch.State;
using Poplib.Tests.Fetch;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Fleet;

/// <summary>
/// The PostgreSQL state store: the same rows and rules as SQLite's, and the lease — taken, refused while held, lost when it
/// expires, and every write of a lost lease refused by the database.
/// </summary>
[Collection(nameof(PostgresCollection))]
public sealed class PostgreSqlStoreTests(PostgresFixture fixture)
{
    private static readonly AccountKey Alice = new("alice", "pop.example", 995);

    private static StoredMessage Row(string key, MessageStatus status = MessageStatus.Delivered, string? id = null) =>
        new(MessageKey.FromUidl(key), status, 100, id, "digest-" + key, "maildir:/m", key + ".eml", OnServer: true);

    [PostgresFact]
    public async Task Rows_are_saved_loaded_marked_and_forgotten_as_in_the_sqlite_store()
    {
        await using var world = new FleetWorld(fixture.Server);
        using IFetchStateStore state = world.Open().OpenStore();
        using IDisposable held = state.LockAccount(Alice);

        state.Save(Alice, [Row("a", id: "<a@x>"), Row("b", MessageStatus.Delivering), Row("c", MessageStatus.Seen)]);
        state.MarkOnServer(Alice, new HashSet<MessageKey> { MessageKey.FromUidl("a"), MessageKey.FromUidl("c") });
        state.Forget(Alice, [MessageKey.FromUidl("b")]);
        state.SetStatus(Alice, [MessageKey.FromUidl("a")], MessageStatus.Deleted);

        Dictionary<MessageKey, StoredMessage> rows = state.Load(Alice);
        Assert.Equal(["a", "c"], rows.Keys.Select(k => k.Value).Order());
        Assert.Equal((MessageStatus.Deleted, false), (rows[MessageKey.FromUidl("a")].Status, rows[MessageKey.FromUidl("a")].OnServer));
        Assert.Equal(Row("c", MessageStatus.Seen), rows[MessageKey.FromUidl("c")]);
        Assert.True(state.HasDelivered(Alice, "<a@x>"));
        Assert.False(state.HasDelivered(Alice, "<c@x>"));

        // Another mailbox of the same user (another host name): found by Message-ID; another user's never.
        var other = new AccountKey("alice", "mail.example", 995);
        Assert.True(state.HasOtherKeys(other));
        Assert.Equal(Alice.ToString(), state.DeliveredUnderAnotherKey(other, "<a@x>"));
        Assert.False(state.HasOtherKeys(new AccountKey("alice@corp", "pop.example", 995)));
    }

    [PostgresFact]
    public async Task A_held_account_is_refused_to_a_second_run_naming_the_holder()
    {
        await using var world = new FleetWorld(fixture.Server);
        using IFetchStateStore first = world.Open(owner: "worker-a").OpenStore();
        using IFetchStateStore second = world.Open(owner: "worker-b").OpenStore();
        IDisposable held = first.LockAccount(Alice);

        FetchException e = Assert.Throws<FetchException>(() => second.LockAccount(Alice));
        Assert.Equal(FetchFailure.AccountLocked, e.Failure);
        Assert.StartsWith("worker-a (lease until ", e.Message, StringComparison.Ordinal);

        held.Dispose(); // released at once, not at the expiry
        using IDisposable taken = second.LockAccount(Alice);
        Assert.IsAssignableFrom<IFetchLease>(taken);
    }

    [PostgresFact]
    public async Task A_run_whose_lease_was_taken_over_can_write_nothing()
    {
        await using var world = new FleetWorld(fixture.Server);
        using IFetchStateStore zombie = world.Open(owner: "zombie").OpenStore();
        using IFetchStateStore successor = world.Open(owner: "successor").OpenStore();
        using IDisposable old = zombie.LockAccount(Alice);
        zombie.Save(Alice, [Row("before")]);

        // The zombie's lease runs out (it was frozen, say) and another worker takes the account.
        world.Sql("UPDATE {s}.leases SET expires = clock_timestamp() - interval '1 second'");
        using IDisposable taken = successor.LockAccount(Alice);

        foreach (Action write in new Action[]
        {
            () => zombie.Save(Alice, [Row("after")]),
            () => zombie.SetStatus(Alice, [MessageKey.FromUidl("before")], MessageStatus.Deleted),
            () => zombie.Forget(Alice, [MessageKey.FromUidl("before")]),
            () => zombie.MarkOnServer(Alice, new HashSet<MessageKey>()),
        })
        {
            FetchException e = Assert.Throws<FetchException>(write);
            Assert.Equal(FetchFailure.LeaseLost, e.Failure);
        }

        Assert.Equal(Row("before"), successor.Load(Alice).Values.Single());
        successor.Save(Alice, [Row("successor's")]);
        Assert.Equal(2, successor.Load(Alice).Count);
    }

    [PostgresFact]
    public async Task An_expired_lease_stops_writes_even_before_anyone_takes_the_account()
    {
        await using var world = new FleetWorld(fixture.Server);
        using IFetchStateStore state = world.Open().OpenStore();
        using IDisposable held = state.LockAccount(Alice);

        world.Sql("UPDATE {s}.leases SET expires = clock_timestamp() - interval '1 second'");

        Assert.Equal(FetchFailure.LeaseLost, Assert.Throws<FetchException>(() => state.Save(Alice, [Row("late")])).Failure);
        Assert.Equal(0L, world.Sql("SELECT count(*) FROM {s}.messages"));
    }

    [PostgresFact]
    public async Task A_lease_that_cannot_be_renewed_is_given_up_before_it_expires()
    {
        await using var world = new FleetWorld(fixture.Server);
        using IFetchStateStore state = world.Open(lease: TimeSpan.FromSeconds(3)).OpenStore();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var lease = (IFetchLease)state.LockAccount(Alice);

        // Another session holds the lease row: every renewal blocks until its command times out, as with a database
        // that does not answer. The lease must be given up on the local clock, before the database's expiry.
        await using var blocker = new NpgsqlConnection(fixture.Server.OwnerConnectionString);
        await blocker.OpenAsync();
        await using NpgsqlTransaction transaction = await blocker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand($"SELECT 1 FROM {world.Schema}.leases FOR UPDATE", blocker, transaction))
            await lockRow.ExecuteScalarAsync();

        // The safety margin (3 s − 0.75 s after it was taken) passes: from then on the lease is not trusted, whatever the
        // timers are doing — decided on the local clock, before the database would let another worker take the account.
        if (TimeSpan.FromSeconds(2.3) - clock.Elapsed is { Ticks: > 0 } wait)
            await Task.Delay(wait);
        Assert.Equal(FetchFailure.LeaseLost, Assert.Throws<FetchException>(lease.EnsureHeld).Failure);
        // And the run is told (its token cancelled), however loaded the machine.
        await Task.Delay(Timeout.Infinite, lease.Lost).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(lease.Lost.IsCancellationRequested);
        lease.Dispose();
    }

    [PostgresFact]
    public async Task A_held_lease_is_renewed_for_as_long_as_the_run_lasts()
    {
        await using var world = new FleetWorld(fixture.Server);
        using IFetchStateStore state = world.Open(lease: TimeSpan.FromSeconds(2)).OpenStore();
        var lease = (IFetchLease)state.LockAccount(Alice);

        await Task.Delay(TimeSpan.FromSeconds(5)); // two and a half lease durations

        lease.EnsureHeld();
        state.Save(Alice, [Row("late but held")]);
        Assert.False(lease.Lost.IsCancellationRequested);
        lease.Dispose();
        Assert.Equal(0L, world.Sql("SELECT count(*) FROM {s}.leases"));
    }

    [PostgresFact]
    public async Task The_engine_fetches_and_deletes_through_the_postgresql_store()
    {
        await using var world = new FleetWorld(fixture.Server);
        await using EngineWorld engine = await EngineWorld.StartAsync(30);
        PostgreSqlFetchDatabase database = world.Open();
        var sink = new RecordingSink();
        FetchAccount account = engine.Account(FetchDestination.Sink(sink), new FetchPolicy { Delete = true, BatchSize = 7 });

        using (IFetchStateStore state = database.OpenStore())
            Assert.Equal(30, (await new Fetcher(account, state).RunAsync()).Delivered);
        using (IFetchStateStore state = database.OpenStore())
            Assert.Equal(0, (await new Fetcher(account, state).RunAsync()).Delivered);

        Assert.Equal(30, sink.Accepted.Select(a => a.Message.Key).Distinct().Count());
        Assert.Equal(30, sink.Accepted.Count);
        Assert.Equal(0, engine.Memory.Count);
        Assert.Equal(30L, world.Sql("SELECT count(*) FROM {s}.messages WHERE status = 'Deleted' AND lease_token IS NOT NULL"));
        Assert.Equal(0L, world.Sql("SELECT count(*) FROM {s}.leases"));
    }

    [PostgresFact]
    public async Task A_run_that_loses_its_lease_stops_before_recording_or_deleting_and_the_next_run_delivers_the_rest_once()
    {
        await using var world = new FleetWorld(fixture.Server);
        await using EngineWorld engine = await EngineWorld.StartAsync(20);
        PostgreSqlFetchDatabase database = world.Open();
        var sink = new RecordingSink();
        int seen = 0;
        sink.Before = (_, _) =>
        {
            // Mid-run, another worker takes the account (this one was frozen past its lease, say).
            if (Interlocked.Increment(ref seen) == 5)
                world.Sql("UPDATE {s}.leases SET token = token + 1000");
            return Task.CompletedTask;
        };
        FetchAccount account = engine.Account(FetchDestination.Sink(sink), new FetchPolicy { Delete = true, BatchSize = 3 });

        FetchException e;
        using (IFetchStateStore state = database.OpenStore())
            e = await Assert.ThrowsAsync<FetchException>(() => new Fetcher(account, state).RunAsync());

        Assert.Equal(FetchFailure.LeaseLost, e.Failure);
        Assert.Equal(20, engine.Memory.Count); // no DELE was committed
        Assert.Equal(5, sink.Accepted.Count); // the fifth was accepted before the loss, its confirmation refused

        world.Sql("DELETE FROM {s}.leases"); // the successor is gone too; the account is free
        using (IFetchStateStore state = database.OpenStore())
            await new Fetcher(account, state).RunAsync();

        // The fifth is recorded as being delivered: the sink's recovery decides (RecordingSink has none: offered again).
        Assert.Equal(20, sink.Accepted.Select(a => a.Message.Key).Distinct().Count());
        Assert.Equal(0, engine.Memory.Count);
    }
}
