using System.Collections.Concurrent;

namespace Poplib.Testing.Faults;

/// <summary>What faults remember across the sessions of one server: the unique ids UIDL has told (<see cref="XUidlHeader"/>) and how many sessions have logged in (<see cref="ShuffledNumbers"/>).</summary>
internal sealed class FaultMemory
{
    private readonly ConcurrentDictionary<string, bool> _toldUids = new(StringComparer.Ordinal);
    private int _logins;

    public bool WasTold(string uid) => _toldUids.ContainsKey(uid);

    /// <summary>Records that UIDL told <paramref name="uid"/>; true the first time.</summary>
    public bool Tell(string uid) => _toldUids.TryAdd(uid, true);

    /// <summary>Counts a login; returns its number, from 1.</summary>
    public int NextLogin() => Interlocked.Increment(ref _logins);
}
