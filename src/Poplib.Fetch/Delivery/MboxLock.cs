using System.Globalization;
using System.Text;

namespace Poplib.Fetch.Delivery;

/// <summary>
/// The two locks mbox writers agree on: a <c>FILE.lock</c> dot-lock (procmail, mutt, Dovecot's
/// mbox_write_locks=dotlock) and an fcntl lock on the file itself. A dot-lock whose process is gone
/// (a killed poplib) is removed; a live holder is waited for, up to a limit.
/// </summary>
internal sealed class MboxLock : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(5);
    private readonly string _dotLock;
    private readonly FileStream _mbox;
    private bool _fileLocked;

    private MboxLock(string dotLock, FileStream mbox)
    {
        _dotLock = dotLock;
        _mbox = mbox;
    }

    /// <summary>Takes both locks on <paramref name="mbox"/> (opened read-write by the caller).</summary>
    public static MboxLock Acquire(string path, FileStream mbox)
    {
        string dotLock = path + ".lock";
        DateTime giveUp = DateTime.UtcNow + Patience;
        while (!TryCreateDotLock(dotLock))
        {
            if (DateTime.UtcNow > giveUp)
                throw new FetchException(FetchFailure.DestinationBusy, $"the mbox {path} stays locked by {dotLock}; remove it if no program is writing the mbox");
            Thread.Sleep(100);
        }

        var held = new MboxLock(dotLock, mbox);
        try
        {
            // macOS has no byte-range locking in .NET: the dot-lock alone serves there.
            while (!OperatingSystem.IsMacOS())
            {
                try
                {
                    mbox.Lock(0, long.MaxValue); // fcntl F_SETLK over the whole file, however long it grows
                    held._fileLocked = true;
                    return held;
                }
                catch (IOException) when (DateTime.UtcNow < giveUp)
                {
                    Thread.Sleep(100);
                }
            }

            return held;
        }
        catch (IOException e)
        {
            held.Dispose();
            throw new FetchException(FetchFailure.DestinationBusy, $"the mbox {path} stays locked by another program: {e.Message}", e);
        }
    }

    /// <summary>
    /// Creates the dot-lock the classic way: the process number is written to a private file first,
    /// which is then linked into place (File.Move without overwrite is link + unlink on Unix), so the
    /// lock never exists without the number that lets a later run see its holder is gone.
    /// </summary>
    private static bool TryCreateDotLock(string dotLock)
    {
        string pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        RemoveAbandonedAttempts(dotLock);
        string attempt = $"{dotLock}.{pid}.{Guid.NewGuid():N}";
        using (FileStream file = PrivateFiles.CreateNew(attempt, FileAccess.Write))
            file.Write(Encoding.ASCII.GetBytes(pid + "\n"));
        try
        {
            File.Move(attempt, dotLock, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(dotLock))
        {
            File.Delete(attempt);
            if (IsStale(dotLock))
            {
                try
                {
                    File.Delete(dotLock);
                }
                catch (IOException)
                {
                    // Someone else removed or replaced it first; try again.
                }
            }

            return false;
        }
        catch
        {
            File.Delete(attempt);
            throw;
        }
    }

    /// <summary>Private files of lock attempts whose process was killed before it could link or remove them.</summary>
    private static void RemoveAbandonedAttempts(string dotLock)
    {
        string folder = Path.GetDirectoryName(dotLock)!;
        string prefix = Path.GetFileName(dotLock) + ".";
        foreach (string path in Directory.EnumerateFiles(folder, prefix + "*"))
        {
            // The pattern "x.lock.*" also matches "x.lock" itself (.NET's wildcard rules).
            if (Path.GetFileName(path).Length <= prefix.Length)
                continue;
            string[] parts = Path.GetFileName(path)[prefix.Length..].Split('.');
            if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && pid != Environment.ProcessId && !ProcessProbe.IsAlive(pid))
            {
                try
                {
                    File.Delete(path);
                }
                catch (IOException)
                {
                    // Another run is cleaning up too.
                }
            }
        }
    }

    private static bool IsStale(string dotLock)
    {
        try
        {
            string text = File.ReadAllText(dotLock).Trim();
            // Only a process number can be checked (others write "0" or nothing): then go by age.
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0)
                return !ProcessProbe.IsAlive(pid);
            return DateTime.UtcNow - File.GetLastWriteTimeUtc(dotLock) > StaleAfter;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (_fileLocked && !OperatingSystem.IsMacOS())
        {
            try
            {
                _mbox.Unlock(0, long.MaxValue);
            }
            catch (IOException)
            {
                // Closing the file releases it anyway.
            }
        }

        try
        {
            File.Delete(_dotLock);
        }
        catch (IOException)
        {
            // Nothing to do: the next writer sees the pid is gone.
        }
    }
}
