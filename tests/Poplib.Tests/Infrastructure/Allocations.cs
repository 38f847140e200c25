namespace Poplib.Tests.Infrastructure;

/// <summary>
/// Measures the bytes allocated by one call, on every thread (the scripted server's included, which
/// is why tests prepare what it sends beforehand). Tests that use it run in the
/// <c>MemoryMeasurement</c> collection, alone, so no other test's allocations are counted.
/// </summary>
internal static class Allocations
{
    public static async Task<(T Result, long Allocated)> Measure<T>(Func<Task<T>> action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        T result = await action();
        return (result, GC.GetTotalAllocatedBytes(precise: true) - before);
    }

    /// <summary>The managed heap after a full collection: what <paramref name="keep"/> (and everything else live) holds.</summary>
    public static long Live(object? keep)
    {
        long live = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(keep);
        return live;
    }
}
