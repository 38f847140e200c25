using Npgsql;
using Poplib.Fetch;
using Poplib.Fetch.PostgreSql;
using Poplib.Fetch.State;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Fetch;

/// <summary>
/// The PostgreSQL store's "same user under another key" questions (a mailbox fetched before under another spelling of its
/// host), asked as a range of the "C"-collated account column so that the primary key answers them: the range must hold
/// exactly the user's keys — not a user whose name starts the same, not a user whose name holds '@'.
/// </summary>
[Collection(nameof(PostgresCollection))]
public sealed class PostgreSqlSameUserTests(PostgresFixture fixture) : IDisposable
{
    private readonly PostgreSqlFetchDatabase _database = PostgreSqlFetchDatabase.Open(new PostgreSqlFetchOptions
    {
        ConnectionString = fixture.Server.OwnerConnectionString,
        Schema = "same_user_" + Guid.NewGuid().ToString("N")[..12],
    });

    private static readonly AccountKey U1AtA = new("u1", "a.example", 110);

    [PostgresFact]
    public void Another_host_of_the_same_user_is_found_and_similar_users_are_not()
    {
        Deliver(U1AtA, "<one@example.org>");
        Deliver(new AccountKey("u1@x", "a.example", 110), "<two@example.org>"); // the user "u1@x", not "u1"
        Deliver(new AccountKey("u10", "a.example", 110), "<three@example.org>");

        using IFetchStateStore store = _database.OpenStore();
        Assert.True(store.HasOtherKeys(new AccountKey("u1", "b.example", 110)));
        Assert.True(store.HasOtherKeys(new AccountKey("u1", "a.example", 995)));
        Assert.False(store.HasOtherKeys(U1AtA)); // its own rows are not another key
        Assert.False(store.HasOtherKeys(new AccountKey("u", "b.example", 110)));
        Assert.False(store.HasOtherKeys(new AccountKey("u2", "a.example", 110)));
        Assert.True(store.HasOtherKeys(new AccountKey("u1@x", "b.example", 110)));
        Assert.True(store.HasOtherKeys(new AccountKey("u10", "b.example", 110)));

        Assert.Equal(U1AtA.ToString(), store.DeliveredUnderAnotherKey(new AccountKey("u1", "b.example", 110), "<one@example.org>"));
        Assert.Null(store.DeliveredUnderAnotherKey(new AccountKey("u1", "b.example", 110), "<two@example.org>"));
        Assert.Null(store.DeliveredUnderAnotherKey(new AccountKey("u1", "b.example", 110), "<three@example.org>"));
        Assert.Null(store.DeliveredUnderAnotherKey(U1AtA, "<one@example.org>"));
        Assert.Equal("u1@x@a.example:110", store.DeliveredUnderAnotherKey(new AccountKey("u1@x", "b.example", 110), "<two@example.org>"));
    }

    [PostgresFact]
    public void The_question_is_answered_from_the_primary_key_not_by_reading_every_row()
    {
        Deliver(U1AtA, "<one@example.org>");
        using IFetchStateStore store = _database.OpenStore();
        var key = new AccountKey("u1", "b.example", 110);
        Assert.True(store.HasOtherKeys(key));

        // The planner would read a table this small whole anyway; with scans of whole tables priced out, a condition the
        // index cannot answer still shows one ("Seq Scan").
        using var connection = new NpgsqlConnection(fixture.Server.OwnerConnectionString);
        connection.Open();
        using (var off = new NpgsqlCommand("SET enable_seqscan = off", connection))
            off.ExecuteNonQuery();
        using var explain = new NpgsqlCommand("EXPLAIN " + PostgreSqlFetchStateStore.HasOtherKeysSql(_database.Options.Schema), connection);
        foreach ((string name, object value) in PostgreSqlFetchStateStore.SameUserParameters(key))
            explain.Parameters.AddWithValue(name, value);
        var lines = new List<string>();
        using (NpgsqlDataReader plan = explain.ExecuteReader())
        {
            while (plan.Read())
                lines.Add(plan.GetString(0));
        }

        Assert.Contains(lines, l => l.Contains("Index", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("Seq Scan", StringComparison.Ordinal));

        // The test server's database is created with the "C" collation, where any text column would do; a database made
        // with a linguistic default (en_US.UTF-8) needs the column's own, which the schema's second step gives it.
        using var collation = new NpgsqlCommand(
            "SELECT collation_name FROM information_schema.columns WHERE table_schema = @s AND table_name = 'messages' AND column_name = 'account'", connection);
        collation.Parameters.AddWithValue("s", _database.Options.Schema);
        Assert.Equal("C", collation.ExecuteScalar());
    }

    private void Deliver(AccountKey account, string messageId)
    {
        using IFetchStateStore store = _database.OpenStore();
        using IDisposable held = store.LockAccount(account);
        store.Save(account, [new StoredMessage(MessageKey.FromUidl("m-" + messageId), MessageStatus.Delivered, 100, messageId, null, "maildir:/tmp/x", null, true)]);
    }

    public void Dispose() => _database.Dispose();
}
