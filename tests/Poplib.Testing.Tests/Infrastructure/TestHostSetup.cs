using System.Runtime.CompilerServices;

namespace Poplib.Testing.Tests.Infrastructure;

internal static class TestHostSetup
{
    /// <summary>
    /// Server and clients share this process, and the synchronous client path blocks pool threads; on a
    /// two-core machine the pool grows slowly enough to stall a reply past a short client timeout.
    /// (Copied from tests/Poplib.Tests.)
    /// </summary>
    [ModuleInitializer]
    internal static void RaiseThreadPoolMinimum() => ThreadPool.SetMinThreads(32, 32);
}
