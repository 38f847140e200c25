namespace Poplib.CrashTest;

/// <summary>When the harness meant to kill a run: the delay, the phase it aimed at, and the run's estimated length.</summary>
internal sealed record KillPlan(TimeSpan Delay, string Phase, TimeSpan Estimate);

/// <summary>One run of the child, and what the destination looked like after it.</summary>
internal sealed record RunRecord(
    int Number, int Batch, KillPlan? Plan, ChildOutcome Outcome,
    int NewItems, int BacklogBefore, int BacklogAfter, bool Partial)
{
    public string Describe()
    {
        string plan = Plan is { } p
            ? $"kill at {p.Delay.TotalMilliseconds,5:F0} ms ({p.Phase,-8} of ~{p.Estimate.TotalMilliseconds:F0})"
            : "no kill";
        string ending = Outcome.Killed ? (Outcome.InSessionAtKill ? "killed in session" : "killed") : Outcome.TimedOut ? "TIMED OUT" : $"exited {Outcome.ExitCode}";
        string batch = Batch > 0 ? $"batch {Batch,2}" : "batch default";
        return $"run {Number,3}: {batch}, {plan} → {ending} after {Outcome.Elapsed.TotalMilliseconds:F0} ms; " +
            $"+{NewItems} delivered, {BacklogBefore} → {BacklogAfter} to go{(Partial ? ", partial message on disk" : "")}";
    }
}

/// <summary>
/// The runs so far: which run first showed each delivered item (to say which run lost or duplicated
/// a message), how many kills there were and where they landed.
/// </summary>
internal sealed class RunLog
{
    private readonly Dictionary<string, int> _firstSeen = new(StringComparer.Ordinal);
    private HashSet<string> _leftovers = new(StringComparer.Ordinal);

    public HashSet<string> DeliveredHashes { get; } = new(StringComparer.Ordinal);

    public List<RunRecord> Runs { get; } = [];

    public int Kills { get; private set; }

    /// <summary>Kills while the child had a session open and mail to fetch: mid-download, between delivery and state, at DELE or QUIT.</summary>
    public int InSessionKills { get; private set; }

    private int MidDownloadKills { get; set; }

    private int StartUpKills { get; set; }

    public int Suspicious { get; set; }

    private int BeforeDeliveryKills { get; set; }

    private int AfterLastDeliveryKills { get; set; }

    private int NothingToDoKills { get; set; }

    private int PartialKills { get; set; }

    /// <summary>
    /// Records a run: <paramref name="items"/> and <paramref name="leftovers"/> are the destination
    /// after it. A partial message is one this run left: a new tmp/ file, or a new malformed mbox entry.
    /// </summary>
    public RunRecord Record(
        int number, int batch, KillPlan? plan, ChildOutcome outcome,
        IReadOnlyList<DeliveredItem> items, IReadOnlyCollection<string> leftovers, IReadOnlyList<SourceMessage> sources)
    {
        int backlogBefore = sources.Count(m => !DeliveredHashes.Contains(m.Hash));
        int newItems = 0;
        bool partial = leftovers.Any(name => !_leftovers.Contains(name));
        foreach (DeliveredItem item in items)
        {
            if (_firstSeen.TryAdd(Key(item.Location, item.Hash), number))
            {
                newItems++;
                partial |= item.Problem is not null;
            }

            DeliveredHashes.Add(item.Hash);
        }

        _leftovers = leftovers.ToHashSet(StringComparer.Ordinal);
        int backlogAfter = sources.Count(m => !DeliveredHashes.Contains(m.Hash));
        var record = new RunRecord(number, batch, plan, outcome, newItems, backlogBefore, backlogAfter, partial);
        Runs.Add(record);

        if (outcome.Killed)
        {
            Kills++;
            if (backlogBefore > 0 && outcome.InSessionAtKill)
                InSessionKills++;
            if (backlogBefore == 0)
                NothingToDoKills++;
            else if (newItems == 0 && !partial && !outcome.InSessionAtKill)
                StartUpKills++;
            else if (newItems == 0 && !partial)
                BeforeDeliveryKills++;
            else if (backlogAfter > 0 || partial)
                MidDownloadKills++;
            else
                AfterLastDeliveryKills++;
            if (partial)
                PartialKills++;
        }

        return record;
    }

    /// <summary>Files an MUA moved from new/ to cur/ keep the run that delivered them.</summary>
    public void Moved(IReadOnlyList<(string From, string To)> moves)
    {
        foreach ((string from, string to) in moves)
        {
            foreach (var entry in _firstSeen.Where(e => e.Key.StartsWith(from + "#", StringComparison.Ordinal)).ToList())
                _firstSeen[to + entry.Key[from.Length..]] = entry.Value;
        }
    }

    /// <summary>The run after which <paramref name="item"/> was first seen, or 0 if never recorded.</summary>
    public int FirstSeen(DeliveredItem item) => _firstSeen.GetValueOrDefault(Key(item.Location, item.Hash));

    public string KillSummary() =>
        $"kills: {Kills} ({StartUpKills} before the session, {BeforeDeliveryKills} in the session before a delivery showed, " +
        $"{MidDownloadKills} mid-download, {AfterLastDeliveryKills} after the last delivery, {NothingToDoKills} with nothing new on the server; " +
        $"{InSessionKills} in a session with mail to fetch; {PartialKills} left a partial message on disk); runs: {Runs.Count}; unexpected exits: {Suspicious}";

    private static string Key(string location, string hash) => location + "#" + hash;
}
