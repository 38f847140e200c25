using Microsoft.Win32.SafeHandles;

namespace Poplib.Fetch.Platform;

/// <summary>
/// A folder held open so that names are created, renamed and synced relative to it (Linux: openat,
/// renameat2, syncfs and fsync on its descriptor; elsewhere only its path is kept, and the same calls
/// go by path). A Maildir delivery creates and renames a file a message; by path, the kernel walks
/// every component of the folder's path again on each call (≈ 4 % of the CPU of a fetch into a
/// Maildir on tmpfs), and a folder renamed, or replaced by a link, in the middle of a run would send
/// the rest of the run elsewhere. Held open, every file of the run lands in the folder that was
/// checked when it began.
/// </summary>
internal sealed class OpenFolder : IDisposable
{
    private OpenFolder(string path, SafeFileHandle? handle)
    {
        Path = path;
        Handle = handle;
    }

    /// <summary>The folder's path when it was opened (for messages and for callers that need a name).</summary>
    public string Path { get; }

    /// <summary>The folder's descriptor on Linux; null elsewhere.</summary>
    public SafeFileHandle? Handle { get; }

    /// <summary>The path of <paramref name="name"/> in this folder.</summary>
    public string PathOf(string name) => System.IO.Path.Join(Path, name);

    /// <summary>Opens <paramref name="path"/> (a folder, a symbolic link to one followed) on Linux; elsewhere keeps its path.</summary>
    public static OpenFolder Open(string path)
    {
        if (!OperatingSystem.IsLinux())
            return ByPath(path);
        int fd = UnixNative.Open(path, UnixNative.ReadOnly | UnixNative.Directory | UnixNative.CloseOnExec, 0);
        if (fd < 0)
        {
            int error = UnixNative.LastError;
            string reason = $"cannot open the folder {path}: {UnixNative.Describe(error)}";
            throw error is UnixNative.ErrorAccess or UnixNative.ErrorPermission ? new UnauthorizedAccessException(reason) : new IOException(reason);
        }

        return new OpenFolder(path, new SafeFileHandle(fd, ownsHandle: true));
    }

    /// <summary>The folder by its path only, as on systems other than Linux (also for tests of that fallback).</summary>
    internal static OpenFolder ByPath(string path) => new(path, handle: null);

    public void Dispose() => Handle?.Dispose();
}
