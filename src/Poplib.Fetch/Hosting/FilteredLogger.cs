using Microsoft.Extensions.Logging;

namespace Poplib.Fetch.Hosting;

/// <summary>
/// The engine's logger inside the daemon: everything but the engine's own per-run line (the scheduler writes the one line
/// per run), so a run is one line, and warnings still come through.
/// </summary>
internal sealed class FilteredLogger(ILogger inner, params int[] droppedEventIds) : ILogger<Fetcher>
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!droppedEventIds.Contains(eventId.Id))
            inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
