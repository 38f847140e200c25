using System.Globalization;

namespace Poplib.Cli.Fetch.Delivery;

/// <summary>
/// A private scratch file for one message that disappears by itself: on Unix it is unlinked as soon
/// as it is open, so a SIGKILL can leave at most an empty name (killed between the two steps), which
/// <see cref="RemoveAbandoned"/> clears at the next run.
/// </summary>
internal static class Spool
{
    private const string Prefix = ".poplib-spool-";

    public static FileStream Create(string directory)
    {
        string path = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}"));
        if (OperatingSystem.IsWindows())
            return new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 0, FileOptions.DeleteOnClose);
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        File.Delete(path);
        return file;
    }

    /// <summary>Removes spool names left by poplib processes that no longer run.</summary>
    public static void RemoveAbandoned(string directory)
    {
        if (!Directory.Exists(directory))
            return;
        foreach (string path in Directory.EnumerateFiles(directory, Prefix + "*"))
        {
            if (Path.GetFileName(path).Length <= Prefix.Length)
                continue;
            string rest = Path.GetFileName(path)[Prefix.Length..];
            int dash = rest.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && pid != Environment.ProcessId && !MaildirDestination.ProcessIsAlive(pid))
            {
                try
                {
                    File.Delete(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Not ours to remove after all, or already gone.
                }
            }
        }
    }
}
