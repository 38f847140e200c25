using System.Diagnostics;

namespace Poplib.Transport;

/// <summary>
/// The time one command may spend waiting for the server, in all (<see cref="Pop3ClientOptions.CommandTimeout"/>):
/// each read, write or handshake waits at most what is left, and takes what it waited from it. A
/// server that sends one byte just inside each read's timeout is stopped all the same, while the
/// caller's own time between reads (writing a streamed message to disk, say) is not counted.
/// </summary>
internal struct WaitBudget(TimeSpan total)
{
    private readonly long _totalTicks = total == Timeout.InfiniteTimeSpan ? long.MaxValue : total.Ticks;
    private long _leftTicks = total == Timeout.InfiniteTimeSpan ? long.MaxValue : total.Ticks;

    public readonly TimeSpan Total => TimeSpan.FromTicks(_totalTicks);

    /// <summary>A new command: the whole budget again.</summary>
    public void Restart() => _leftTicks = _totalTicks;

    /// <summary>
    /// How long the next operation may wait: <paramref name="timeout"/>, or what is left of the budget
    /// when that is less (then <paramref name="byDeadline"/> is set). Zero once the budget is spent.
    /// </summary>
    public readonly TimeSpan NextWait(TimeSpan timeout, out bool byDeadline)
    {
        byDeadline = _leftTicks < timeout.Ticks;
        return byDeadline ? TimeSpan.FromTicks(Math.Max(0, _leftTicks)) : timeout;
    }

    /// <summary>Takes the time since <paramref name="startTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>) from the budget.</summary>
    public void Spend(long startTimestamp)
    {
        if (_totalTicks != long.MaxValue)
            _leftTicks -= Stopwatch.GetElapsedTime(startTimestamp).Ticks;
    }
}
