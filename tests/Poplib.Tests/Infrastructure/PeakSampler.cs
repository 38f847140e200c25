using System.Diagnostics;

namespace Poplib.Tests.Infrastructure;

/// <summary>Samples the working set every few milliseconds on its own thread and keeps the peak.</summary>
internal sealed class PeakSampler : IDisposable
{
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _peak;

    public PeakSampler()
    {
        _peak = Process.GetCurrentProcess().WorkingSet64;
        _thread = new Thread(() =>
        {
            using var self = Process.GetCurrentProcess();
            while (!_stop)
            {
                self.Refresh();
                _peak = Math.Max(_peak, self.WorkingSet64);
                Thread.Sleep(5);
            }
        }) { IsBackground = true };
        _thread.Start();
    }

    public long Stop()
    {
        _stop = true;
        _thread.Join();
        return _peak;
    }

    public void Dispose()
    {
        if (!_stop)
            Stop();
    }
}
