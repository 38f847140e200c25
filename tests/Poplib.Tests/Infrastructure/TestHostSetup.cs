using System.Runtime.CompilerServices;

namespace Poplib.Tests.Infrastructure;

internal static class TestHostSetup
{
    /// <summary>
    /// Servers and clients share this process, and the test host parks some pool threads in blocking
    /// waits. On a two-core machine the pool starts with two threads and adds more only every half
    /// second or so, which would stall a scripted server's reply past a short client timeout.
    /// </summary>
    [ModuleInitializer]
    internal static void RaiseThreadPoolMinimum() => ThreadPool.SetMinThreads(32, 32);
}
