using Microsoft.Extensions.Options;
using Poplib.Fetch;
using Poplib.Fetch.Hosting;
using Poplib.Fetch.Scheduling;
using Poplib.Fetch.State;
using Poplib.Testing;
using Poplib.Tests.Fetch;

namespace Poplib.Tests.Daemon;

/// <summary>Options a test changes while the daemon runs: each change is reported to the daemon's listeners, as a reloaded configuration is.</summary>
internal sealed class TestOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    private readonly List<Action<T, string?>> _listeners = [];

    public T CurrentValue { get; private set; } = value;

    public T Get(string? name) => CurrentValue;

    public IDisposable OnChange(Action<T, string?> listener)
    {
        lock (_listeners)
            _listeners.Add(listener);
        return new Unsubscribe(() =>
        {
            lock (_listeners)
                _listeners.Remove(listener);
        });
    }

    public void Set(T value)
    {
        CurrentValue = value;
        Action<T, string?>[] listeners;
        lock (_listeners)
            listeners = [.. _listeners];
        foreach (Action<T, string?> listener in listeners)
            listener(value, null);
    }

    private sealed class Unsubscribe(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}

/// <summary>Several in-process servers (one <see cref="EngineWorld"/> each), one state file and one sink for a daemon over them.</summary>
internal sealed class DaemonWorld : IAsyncDisposable
{
    private DaemonWorld(EngineWorld[] worlds) => Worlds = worlds;

    public EngineWorld[] Worlds { get; }

    public RecordingSink Sink { get; } = new();

    public string StatePath => Worlds[0].StatePath;

    public static async Task<DaemonWorld> StartAsync(int accounts, int messages)
    {
        var worlds = new EngineWorld[accounts];
        for (int i = 0; i < accounts; i++)
            worlds[i] = await EngineWorld.StartAsync(Pop3Mailbox.FromMessages(Enumerable.Range(1, messages).Select(n => Message(i, n))));
        return new DaemonWorld(worlds);
    }

    public static string Name(int i) => $"account-{i}";

    /// <summary>Message <paramref name="n"/> of account <paramref name="i"/>: each account's mail is its own (another account's Message-IDs would look like the same mailbox under another name).</summary>
    public static byte[] Message(int i, int n) => EngineWorld.Message((i * 1000) + n);

    public FetchAccount Account(int i, FetchPolicy? policy = null) =>
        Worlds[i].Account(FetchDestination.Sink(Sink), policy) with { Name = Name(i), Interval = TimeSpan.FromSeconds(1) };

    /// <summary>Fast schedules: 1 s intervals, no spread, no jitter, failures retried after 1, 2, 4 s.</summary>
    public FetchDaemonOptions Options(IEnumerable<FetchAccount> accounts)
    {
        var options = new FetchDaemonOptions
        {
            StatePath = StatePath,
            Scheduler = new FetchSchedulerOptions
            {
                MaxConcurrentRuns = 8,
                MaxInitialSpread = TimeSpan.Zero,
                StopGracePeriod = TimeSpan.FromSeconds(5),
                Backoff = BackoffPolicy.Default with { JitterFraction = 0, FailureDelays = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)] },
            },
        };
        foreach (FetchAccount account in accounts)
            options.Accounts.Add(account);
        return options;
    }

    /// <summary>The messages the sink accepted for account <paramref name="i"/>, by UIDL.</summary>
    public IReadOnlyList<string> Delivered(int i) =>
        [.. Sink.Accepted.Where(a => a.Message.AccountName == Name(i)).Select(a => a.Message.Key.ToString())];

    public IReadOnlyList<StoredAccountStatus> StoredStatus()
    {
        using SqliteFetchStateStore state = SqliteFetchStateStore.Open(StatePath);
        return state.LoadAccountStatuses();
    }

    public static Task UntilAsync(FetchDaemon daemon, Func<bool> condition, string what, int seconds = 30) =>
        UntilAsync(condition, what, seconds, () => string.Join("; ", daemon.GetStatus().Select(s => $"{s.Name}: runs {s.Runs}, {s.LastOutcome}")));

    public static async Task UntilAsync(Func<bool> condition, string what, int seconds = 30, Func<string>? explain = null)
    {
        DateTime end = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > end)
                throw new TimeoutException("timed out waiting until " + what + (explain is null ? "" : " (" + explain() + ")"));
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (EngineWorld world in Worlds)
            await world.DisposeAsync();
    }
}
