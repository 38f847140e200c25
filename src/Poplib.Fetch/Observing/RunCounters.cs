namespace Poplib.Fetch.Observing;

/// <summary>
/// One run's counts as it goes. Only the run's own flow changes them, but observers and a host's
/// timer read them from other threads: every change and every snapshot takes the lock, and what
/// leaves this class is an immutable snapshot (<see cref="FetchProgress"/>, <see cref="FetchResult"/>).
/// </summary>
internal sealed class RunCounters(string name, AccountKey key)
{
    private readonly Lock _lock = new();
    private readonly List<FetchWarning> _warnings = [];
    private int _onServer;
    private long _onServerOctets;
    private int _toFetch;
    private long _toFetchOctets;
    private int _delivered;
    private long _deliveredOctets;
    private int _headersOnly;
    private int _deleted;
    private int _skippedOversize;
    private int _duplicates;
    private int _refused;
    private int _rejected;
    private TimeSpan? _loginDelay;

    public int Rejected
    {
        get
        {
            lock (_lock)
                return _rejected;
        }
    }

    public TimeSpan? LoginDelay
    {
        get
        {
            lock (_lock)
                return _loginDelay;
        }
    }

    public void Listed(int count, long octets)
    {
        lock (_lock)
            (_onServer, _onServerOctets) = (count, octets);
    }

    public void Planned(int count, long octets, int oversize)
    {
        lock (_lock)
            (_toFetch, _toFetchOctets, _skippedOversize) = (count, octets, oversize);
    }

    public void SetLoginDelay(TimeSpan? delay)
    {
        lock (_lock)
            _loginDelay = delay;
    }

    public FetchProgress AddDelivered(long octets, bool headersOnly)
    {
        lock (_lock)
        {
            if (headersOnly)
            {
                _headersOnly++;
            }
            else
            {
                _delivered++;
                _deliveredOctets += octets;
            }

            return ProgressLocked();
        }
    }

    public void AddDeleted(int count) => Add(ref _deleted, count);

    public void AddSkippedOversize() => Add(ref _skippedOversize, 1);

    public void AddDuplicate() => Add(ref _duplicates, 1);

    public void AddRefused() => Add(ref _refused, 1);

    public void AddRejected(int count) => Add(ref _rejected, count);

    public FetchProgress AddWarning(FetchWarning warning)
    {
        lock (_lock)
        {
            _warnings.Add(warning);
            return ProgressLocked();
        }
    }

    public FetchProgress Progress()
    {
        lock (_lock)
            return ProgressLocked();
    }

    public FetchResult Result(TimeSpan elapsed)
    {
        lock (_lock)
        {
            return new FetchResult
            {
                Account = name,
                Key = key,
                OnServer = _onServer,
                OnServerOctets = _onServerOctets,
                ToFetch = _toFetch,
                ToFetchOctets = _toFetchOctets,
                Delivered = _delivered,
                DeliveredOctets = _deliveredOctets,
                HeadersOnly = _headersOnly,
                Deleted = _deleted,
                SkippedOversize = _skippedOversize,
                Duplicates = _duplicates,
                Refused = _refused,
                Rejected = _rejected,
                Elapsed = elapsed,
                LoginDelay = _loginDelay,
                Warnings = [.. _warnings],
            };
        }
    }

    private FetchProgress ProgressLocked() => new(name, _onServer, _toFetch, _toFetchOctets, _delivered, _deliveredOctets, _headersOnly);

    private void Add(ref int counter, int count)
    {
        lock (_lock)
            counter += count;
    }
}
