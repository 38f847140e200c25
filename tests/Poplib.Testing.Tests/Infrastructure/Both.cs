namespace Poplib.Testing.Tests.Infrastructure;

/// <summary>Runs a client call down the sync or the async path, so each test covers both (copied from tests/Poplib.Tests).</summary>
internal static class Both
{
    public static async Task<T> Run<T>(bool async, Func<T> sync, Func<Task<T>> asynchronous) =>
        async ? await asynchronous() : sync();

    public static async Task Run(bool async, Action sync, Func<Task> asynchronous)
    {
        if (async)
            await asynchronous();
        else
            sync();
    }
}
