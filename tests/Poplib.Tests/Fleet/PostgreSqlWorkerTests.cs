using System.Collections.Concurrent;
using Poplib.Fetch;
using Poplib.Fetch.Configuration;
using Poplib.Fetch.PostgreSql;
using Poplib.Fetch.PostgreSql.Accounts;
using Poplib.Fetch.PostgreSql.Workers;
using Poplib.Fetch.State;
using Poplib.Testing;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Fleet;

/// <summary>
/// Workers sharing the accounts of one database: each message delivered once, no account run by two workers at once, every
/// account run, and a database that goes away and comes back.
/// </summary>
[Collection(nameof(PostgresCollection))]
public sealed class PostgreSqlWorkerTests(PostgresFixture fixture)
{
    private const string Password = "fleet-secret";

    [PostgresFact]
    public async Task Two_workers_share_the_accounts_each_message_delivered_once_and_no_account_run_twice_at_once()
    {
        await using var world = new FleetWorld(fixture.Server);
        await using Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.None });
        var mailboxes = Users(server, 24, messages: 5);
        PostgreSqlFetchDatabase database = world.Open();
        database.Accounts.Sync(Definitions(server, mailboxes.Keys, interval: "1s"));
        var sink = new FleetSink();

        using var stop = new CancellationTokenSource();
        PostgreSqlFetchWorker[] workers = [Worker(world.Open(owner: "w1"), sink), Worker(world.Open(owner: "w2"), sink)];
        Task[] running = [.. workers.Select(w => w.RunAsync(stop.Token))];
        // New mail while they run.
        await WaitUntil(() => sink.Count >= 60);
        foreach ((string user, Pop3MemoryMailbox mailbox) in mailboxes)
            mailbox.Add(Message(user, 99));
        await WaitUntil(() => sink.Count == 24 * 6);
        await stop.CancelAsync();
        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(24 * 6, sink.Distinct);
        Assert.Equal(0, sink.Duplicates);
        Assert.Equal(0, sink.Overlaps);
        Assert.True(workers.All(w => w.RunsCompleted > 0), "both workers ran accounts");
        IReadOnlyList<StoredAccountStatus> status = database.Accounts.GetStatus();
        Assert.Equal(24, status.Count(s => s.Runs >= 1 && s.LastSuccess is not null && s.ConsecutiveFailures == 0)); // none starved
        Assert.Equal(0L, world.Sql("SELECT count(*) FROM {s}.leases"));
    }

    [PostgresFact]
    public async Task Workers_wait_out_a_database_that_went_away_and_go_on_when_it_is_back()
    {
        await using var world = new FleetWorld(fixture.Server);
        await using Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.None });
        var mailboxes = Users(server, 6, messages: 3);
        PostgreSqlFetchDatabase database = world.Open(lease: TimeSpan.FromSeconds(3));
        database.Accounts.Sync(Definitions(server, mailboxes.Keys, interval: "1s"));
        var sink = new FleetSink();
        using var stop = new CancellationTokenSource();
        PostgreSqlFetchWorker worker = Worker(database, sink);
        Task running = worker.RunAsync(stop.Token);
        await WaitUntil(() => sink.Count == 18);

        fixture.Server.Pause();
        try
        {
            foreach ((string user, Pop3MemoryMailbox mailbox) in mailboxes)
                mailbox.Add(Message(user, 50));
            await Task.Delay(TimeSpan.FromSeconds(5)); // longer than the lease
            Assert.False(running.IsCompleted, "the worker keeps running while the database is away");
        }
        finally
        {
            fixture.Server.Resume();
        }

        await WaitUntil(() => sink.Count >= 24, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(2));
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(24, sink.Distinct);
        Assert.Equal(0, sink.Overlaps);
    }

    [PostgresFact]
    public async Task Syncing_accounts_adds_updates_and_removes_and_refuses_two_names_for_one_mailbox()
    {
        await using var world = new FleetWorld(fixture.Server);
        PostgreSqlFetchDatabase database = world.Open();
        FetchAccountDefinition Account(string name, int port, string interval = "5m") => new(name, new FetchAccountOptions
        {
            Host = "pop.example", Port = port, User = "u", Password = new FetchPasswordOptions { Env = "PW_" + name.ToUpperInvariant() },
            Maildir = "/var/mail/" + name, Interval = interval,
        });

        Assert.Equal(new FetchAccountSyncResult(2, 0, 0, 0), database.Accounts.Sync([Account("a", 1), Account("b", 2)]));
        Assert.Equal(new FetchAccountSyncResult(1, 1, 0, 1), database.Accounts.Sync([Account("a", 1, "1m"), Account("c", 3)]));
        Assert.Equal(new FetchAccountSyncResult(0, 0, 2, 0), database.Accounts.Sync([Account("a", 1, "1m"), Account("c", 3)]));
        Assert.Equal(["a", "c"], database.Accounts.List().Select(a => a.Name));
        Assert.Equal(60.0, world.Sql("SELECT interval_seconds FROM {s}.accounts WHERE name = 'a'"));

        FetchException twice = Assert.Throws<FetchException>(() => database.Accounts.Sync([Account("a", 1), Account("again", 1)]));
        Assert.Contains("fetch the same mailbox", twice.Message, StringComparison.Ordinal);
        FetchException wrong = Assert.Throws<FetchException>(() => database.Accounts.Sync([Account("x", 70000)]));
        Assert.Equal(FetchFailure.Configuration, wrong.Failure);
        Assert.Equal(2L, world.Sql("SELECT count(*) FROM {s}.accounts")); // a refused sync changes nothing
    }

    private static PostgreSqlFetchWorker Worker(PostgreSqlFetchDatabase database, FleetSink sink) => new(database, new PostgreSqlFetchWorkerOptions
    {
        MaxConcurrentRuns = 3,
        PollInterval = TimeSpan.FromMilliseconds(200),
        Sink = sink,
        ResolveAccount = definition => new FetchConfigurationOptions { Accounts = [definition.Settings] }
            .ToAccounts(password: _ => _ => ValueTask.FromResult(Password), destination: FetchDestination.Sink(sink))[0],
    });

    private static Dictionary<string, Pop3MemoryMailbox> Users(Pop3TestServer server, int count, int messages)
    {
        var users = new Dictionary<string, Pop3MemoryMailbox>();
        for (int i = 0; i < count; i++)
        {
            string user = $"user{i}";
            var mailbox = (Pop3MemoryMailbox)Pop3Mailbox.FromMessages(Enumerable.Range(1, messages).Select(n => Message(user, n)));
            server.AddUser(user, Password, mailbox);
            users.Add(user, mailbox);
        }

        return users;
    }

    private static List<FetchAccountDefinition> Definitions(Pop3TestServer server, IEnumerable<string> users, string interval) =>
        [.. users.Select(user => new FetchAccountDefinition(user, new FetchAccountOptions
        {
            Host = "127.0.0.1", Port = server.Port, Security = "none", AllowInsecureAuth = true, User = user,
            Password = new FetchPasswordOptions { Env = "POPLIB_FLEET_TEST_PW" }, Policy = "delete", Interval = interval,
        }))];

    private static byte[] Message(string user, int n) =>
        System.Text.Encoding.ASCII.GetBytes($"From: a@example.org\r\nTo: {user}@example.org\r\nSubject: {user} {n}\r\nMessage-ID: <{user}-{n}@fleet>\r\n\r\nbody {n}\r\n");

    private static async Task WaitUntil(Func<bool> condition, TimeSpan? timeout = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(60)))
                throw new TimeoutException("the workers did not get there in time");
            await Task.Delay(50);
        }
    }

    /// <summary>The application's sink: keeps each message by (account, Message-ID) and notes any account delivered to by two runs at once.</summary>
    private sealed class FleetSink : IMessageSink
    {
        private readonly ConcurrentDictionary<string, int> _delivered = new();
        private readonly ConcurrentDictionary<string, int> _inFlight = new();
        private int _count;
        private int _overlaps;

        public int Count => Volatile.Read(ref _count);

        public int Distinct => _delivered.Count;

        public int Duplicates => _delivered.Values.Count(v => v > 1);

        public int Overlaps => Volatile.Read(ref _overlaps);

        public async ValueTask AcceptAsync(FetchedMessage message, Stream content, CancellationToken cancellationToken)
        {
            if (_inFlight.AddOrUpdate(message.AccountName, 1, (_, n) => n + 1) > 1)
                Interlocked.Increment(ref _overlaps);
            try
            {
                await content.CopyToAsync(Stream.Null, cancellationToken);
                await Task.Delay(5, cancellationToken); // long enough for two runs of one account to meet, if they could
                _delivered.AddOrUpdate($"{message.AccountName}/{message.MessageId}", 1, (_, n) => n + 1);
                Interlocked.Increment(ref _count);
            }
            finally
            {
                _inFlight.AddOrUpdate(message.AccountName, 0, (_, n) => n - 1);
            }
        }
    }
}
