using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Poplib.Fetch;
using Poplib.Fetch.Hosting;
using Poplib.Fetch.Sample;

namespace Poplib.Tests.Daemon;

/// <summary>samples/Poplib.Fetch.Sample's idempotent table sink in a real host, over the in-process server.</summary>
public sealed class SampleWorkerTests
{
    [Fact]
    public async Task Each_message_lands_once_in_the_table_even_when_the_sink_fails_after_its_insert()
    {
        await using DaemonWorld world = await DaemonWorld.StartAsync(accounts: 2, messages: 4);
        string database = Path.Combine(world.Worlds[0].Folder, "mail.sqlite");
        var sink = new FailOnceAfterInsert(new SqliteMessageSink(database));

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<IMessageSink>(sink);
        builder.Services.AddPop3Fetch(options =>
        {
            FetchDaemonOptions fast = world.Options([]);
            options.StatePath = fast.StatePath;
            options.Scheduler = fast.Scheduler;
            // The accounts deliver into the registered sink, as configured accounts without a destination do.
            for (int i = 0; i < 2; i++)
                options.Accounts.Add(world.Account(i) with { Destination = FetchDestination.Sink(sink) });
        });
        using IHost host = builder.Build();
        await host.StartAsync();
        FetchDaemon daemon = host.Services.GetRequiredService<FetchDaemon>();
        try
        {
            await DaemonWorld.UntilAsync(daemon, () => Rows(database).Count == 8 && daemon.GetStatus().All(s => s.LastSuccess is not null), "every message in the table");
        }
        finally
        {
            await host.StopAsync();
        }

        List<(string Account, string Uidl)> rows = Rows(database);
        Assert.Equal(8, rows.Count);
        Assert.Equal(8, rows.Distinct().Count());
        Assert.Equal(9, sink.Calls); // the failed call was repeated, and the repeat inserted nothing
    }

    private static List<(string Account, string Uidl)> Rows(string database)
    {
        using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        connection.Open();
        using SqliteCommand select = connection.CreateCommand();
        select.CommandText = "SELECT account, uidl FROM mail";
        using SqliteDataReader reader = select.ExecuteReader();
        var rows = new List<(string, string)>();
        while (reader.Read())
            rows.Add((reader.GetString(0), reader.GetString(1)));
        return rows;
    }

    /// <summary>Stores the third message and then throws, once: as if the process died between the sink's commit and the engine's record.</summary>
    private sealed class FailOnceAfterInsert(IMessageSink inner) : IMessageSink
    {
        private int _calls;

        public int Calls => _calls;

        public async ValueTask AcceptAsync(FetchedMessage message, Stream content, CancellationToken cancellationToken)
        {
            int call = Interlocked.Increment(ref _calls);
            await inner.AcceptAsync(message, content, cancellationToken);
            if (call == 3)
                throw new IOException("the connection to the database broke after the commit");
        }
    }
}
