namespace Poplib.Transport;

/// <summary>
/// The timeout of a caller's stream whose socket we cannot reach: a blocking read on an arbitrary
/// <see cref="Stream"/> has no timeout we could set, and its async read may ignore the cancellation
/// token. When a wait runs past its time, the watchdog closes the stream — the one thing that stops
/// any stream's pending read — and the transport reports a <see cref="TimeoutException"/> (a timeout
/// closes the connection in any case). One timer for the connection, re-armed for each wait.
/// </summary>
internal sealed class StreamWatchdog : IDisposable
{
    private readonly Stream _stream;
    private readonly Timer _timer;
    private readonly Lock _gate = new();
    private long _deadline = long.MaxValue;
    private bool _fired;

    public StreamWatchdog(Stream stream)
    {
        _stream = stream;
        _timer = new Timer(static state => ((StreamWatchdog)state!).Check(), this, Timeout.Infinite, Timeout.Infinite);
    }

    public void Arm(TimeSpan wait)
    {
        long ms = (long)Math.Ceiling(wait.TotalMilliseconds);
        lock (_gate)
            _deadline = Environment.TickCount64 + ms;
        _timer.Change(ms, Timeout.Infinite);
    }

    /// <summary>Stops watching; true when the wait expired and the stream was closed.</summary>
    public bool Disarm()
    {
        lock (_gate)
        {
            _deadline = long.MaxValue;
            return _fired;
        }
    }

    // A callback from an earlier arming can run late: only a deadline that has really passed counts.
    private void Check()
    {
        lock (_gate)
        {
            long left = _deadline - Environment.TickCount64;
            if (_deadline == long.MaxValue || _fired)
                return;
            if (left > 0)
            {
                _timer.Change(left, Timeout.Infinite);
                return;
            }

            _fired = true;
        }

        try
        {
            _stream.Dispose();
        }
#pragma warning disable CA1031 // An exception escaping a timer callback would end the process; the caller's stream may throw anything.
        catch (Exception)
#pragma warning restore CA1031
        {
            // Closing is all that is wanted; a stream that complains about it is closed enough.
        }
    }

    public void Dispose() => _timer.Dispose();
}
