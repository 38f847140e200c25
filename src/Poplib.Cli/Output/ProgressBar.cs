using System.Globalization;

namespace Poplib.Cli.Output;

/// <summary>
/// A one-line progress bar, redrawn in place on a terminal; on a pipe or file it prints nothing
/// until the final line, so logs stay readable.
/// </summary>
internal sealed class ProgressBar(TextWriter output, bool isTerminal, int total, long totalBytes)
{
    private const int Width = 30;
    private long _lastDraw;

    public void Report(int done, long bytes)
    {
        if (!isTerminal)
            return;
        long now = Environment.TickCount64;
        if (done != total && now - _lastDraw < 50)
            return;
        _lastDraw = now;
        double fraction = totalBytes > 0 ? Math.Min(1, (double)bytes / totalBytes) : 1;
        int filled = (int)(fraction * Width);
        output.Write(string.Create(CultureInfo.InvariantCulture,
            $"\r[{new string('#', filled)}{new string('.', Width - filled)}] {done}/{total} messages, {bytes / 1048576.0:0.0}/{totalBytes / 1048576.0:0.0} MiB"));
        if (done == total)
            output.WriteLine();
    }
}
