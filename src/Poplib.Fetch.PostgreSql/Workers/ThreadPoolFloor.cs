namespace Poplib.Fetch.PostgreSql.Workers;

/// <summary>
/// Keeps enough pool threads ready for a worker's runs. Each run makes its state writes as synchronous database calls
/// (<see cref="Poplib.Fetch.State.IFetchStateStore"/> is synchronous) on a pool thread, and the pool adds threads beyond
/// its minimum (the core count) only about once a second while all of them wait on round trips: a worker starting 8 runs
/// on 2 cores spent its first 6 seconds starved (benchmarks/fleet), its first runs taking 7.5 s instead of 0.3 s.
/// </summary>
internal static class ThreadPoolFloor
{
    /// <summary>Raises the pool's minimum of worker threads to <paramref name="threads"/> if it is lower; never lowers it.</summary>
    public static void AtLeast(int threads)
    {
        ThreadPool.GetMinThreads(out int workers, out int completionPorts);
        if (workers < threads)
            ThreadPool.SetMinThreads(threads, completionPorts);
    }
}
