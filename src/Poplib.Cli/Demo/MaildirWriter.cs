using System.Globalization;

namespace Poplib.Cli.Demo;

/// <summary>
/// Delivers messages into a Maildir the way the format requires: write into <c>tmp/</c>, flush the
/// file to disk, then rename it into <c>new/</c> (atomic on one file system), so a reader never sees
/// half a message and a crash leaves at worst a stray file in <c>tmp/</c>.
/// </summary>
internal sealed class MaildirWriter
{
    private readonly string _root;
    private int _sequence;

    public MaildirWriter(string root)
    {
        _root = root;
        foreach (string sub in new[] { "tmp", "new", "cur" })
            Directory.CreateDirectory(Path.Combine(root, sub));
    }

    /// <summary>Streams one message in through <paramref name="write"/> and returns the delivered file's path.</summary>
    public async Task<string> DeliverAsync(Func<Stream, Task> write, CancellationToken cancellationToken)
    {
        string name = string.Create(CultureInfo.InvariantCulture,
            $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.P{Environment.ProcessId}Q{Interlocked.Increment(ref _sequence)}.{Environment.MachineName}");
        string temporary = Path.Combine(_root, "tmp", name);
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            {
                await write(file);
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }

            string delivered = Path.Combine(_root, "new", name);
            File.Move(temporary, delivered);
            return delivered;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
