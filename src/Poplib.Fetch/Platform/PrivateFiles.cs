using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Poplib.Fetch.Platform;

/// <summary>
/// Creates the retriever's files so that no other user can read or tamper with them, whatever the
/// umask: mail, spool and state files 0600, folders 0700, no symbolic link followed where a name
/// is created, and message spools that never have a name at all where Linux allows it.
/// </summary>
internal static class PrivateFiles
{
    private const string SpoolFolderPrefix = ".poplib-spool-";
    private const int ErrorNotSupported = 95; // EOPNOTSUPP: the file system has no O_TMPFILE
    private const int ErrorIsDirectory = 21; // EISDIR: a kernel older than O_TMPFILE
    private const int ErrorInvalid = 22; // EINVAL

    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates the folder and any missing parents with mode 0700 (existing ones are left as they are).</summary>
    public static void CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        // Directory.CreateDirectory(path, mode) gives the mode to the last folder only: the parents
        // it makes get the umask's. So each missing one is made here, outermost first.
        var missing = new Stack<string>();
        for (string? folder = Path.GetFullPath(path); folder is not null && !Directory.Exists(folder); folder = Path.GetDirectoryName(folder))
            missing.Push(folder);
        while (missing.TryPop(out string? folder))
            Directory.CreateDirectory(folder, FolderMode);
    }

    /// <summary>Opens a file, creating it with mode 0600 if it does not exist (an existing file keeps its mode).</summary>
    public static FileStream Open(string path, System.IO.FileMode mode, FileAccess access, FileShare share, int bufferSize)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows() && mode != System.IO.FileMode.Open && mode != System.IO.FileMode.Truncate)
            options.UnixCreateMode = FileMode;
        return new FileStream(path, options);
    }

    /// <summary>Creates a new file with mode 0600; fails if the name exists, a symbolic link included.</summary>
    public static FileStream CreateNew(string path, FileAccess access, int bufferSize = 0)
    {
        if (!OperatingSystem.IsLinux())
            return Open(path, System.IO.FileMode.CreateNew, access, FileShare.None, bufferSize);

        // open(O_CREAT|O_EXCL) ourselves: FileStream's FileShare.None adds an advisory flock and its
        // release to every file (two system calls a message in a Maildir), which nothing honours and
        // nothing needs on a file whose name is new, unique and private. O_EXCL also refuses a
        // symbolic link in the name's place.
        int fd = UnixNative.Open(path, NewFileFlags(access), (uint)FileMode);
        return fd >= 0 ? Wrap(fd, access, bufferSize) : throw CreateFailed(path);
    }

    /// <summary>
    /// <see cref="CreateNew(string, FileAccess, int)"/> for <paramref name="name"/> in an open folder
    /// (Linux's openat): the folder's path is not walked again for every file.
    /// </summary>
    public static FileStream CreateNew(OpenFolder folder, string name, FileAccess access)
    {
        if (folder.Handle is null)
            return CreateNew(folder.PathOf(name), access);
        int fd = UnixNative.OpenAt(folder.Handle, name, NewFileFlags(access), (uint)FileMode);
        return fd >= 0 ? Wrap(fd, access, bufferSize: 0) : throw CreateFailed(folder.PathOf(name));
    }

    private static int NewFileFlags(FileAccess access) =>
        UnixNative.Create | UnixNative.Exclusive | UnixNative.CloseOnExec
        | (access == FileAccess.Write ? UnixNative.WriteOnly : access == FileAccess.Read ? UnixNative.ReadOnly : UnixNative.ReadWrite);

    private static FileStream Wrap(int fd, FileAccess access, int bufferSize) =>
        new(new SafeFileHandle(fd, ownsHandle: true), access, bufferSize);

    private static Exception CreateFailed(string path)
    {
        int error = UnixNative.LastError;
        string reason = $"cannot create {path}: {UnixNative.Describe(error)}";
        return error is UnixNative.ErrorAccess or UnixNative.ErrorPermission ? new UnauthorizedAccessException(reason) : new IOException(reason);
    }

    /// <summary>
    /// A scratch file in <paramref name="directory"/> that no other user can ever open: on Linux an
    /// O_TMPFILE file, which has no name at all (nothing to watch for with inotify, nothing to
    /// clean up after a kill); elsewhere, or on a file system without O_TMPFILE, a 0600 file
    /// created in a 0700 folder of its own and unlinked at once, with the folder.
    /// </summary>
    public static FileStream CreateUnnamed(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            string path = Path.Combine(directory, SpoolFolderPrefix + Guid.NewGuid().ToString("N"));
            return new FileStream(path, System.IO.FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 0, FileOptions.DeleteOnClose);
        }

        if (OperatingSystem.IsLinux())
        {
            int fd = UnixNative.Open(directory, UnixNative.TemporaryFile | UnixNative.ReadWrite | UnixNative.CloseOnExec, (uint)FileMode);
            if (fd >= 0)
                return new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.ReadWrite, bufferSize: 0);
            int error = UnixNative.LastError;
            if (error is not (ErrorNotSupported or ErrorIsDirectory or ErrorInvalid))
                throw new IOException($"cannot create a spool file in {directory}: {UnixNative.Describe(error)}");
        }

        string folder = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{SpoolFolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}"));
        try
        {
            Directory.CreateDirectory(folder, FolderMode);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Name the folder the user chose (TMPDIR, the mbox's), not our scratch name inside it.
            throw new IOException($"cannot create a spool file in {directory}: {(e is UnauthorizedAccessException ? "permission denied" : e.Message.Replace(folder, directory, StringComparison.Ordinal))}", e);
        }

        try
        {
            string path = Path.Combine(folder, "message");
            FileStream file = CreateNew(path, FileAccess.ReadWrite);
            File.Delete(path);
            return file;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Removes the spool folders of poplib processes that were killed between creating and removing them.</summary>
    public static void RemoveAbandonedSpools(string directory)
    {
        if (!Directory.Exists(directory))
            return;
        foreach (string path in Directory.EnumerateFileSystemEntries(directory, SpoolFolderPrefix + "*"))
        {
            string rest = Path.GetFileName(path)[SpoolFolderPrefix.Length..];
            int dash = rest.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || !int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                || pid == Environment.ProcessId || ProcessProbe.IsAlive(pid))
                continue;
            try
            {
                if (Directory.Exists(path))
                    Directory.Delete(path, recursive: true);
                else
                    File.Delete(path); // a spool file of an older poplib
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's, or already gone.
            }
        }
    }

    /// <summary>
    /// Opens (creating it 0600 if need be) and exclusively locks a lock file without following a
    /// symbolic link, and checks it is a plain file of the running user's with a single name, so
    /// that a planted link can never make us write into someone else's file. Returns null when
    /// another process holds the lock. The kernel releases the lock when the process ends.
    /// </summary>
    public static FileStream? OpenLock(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            try
            {
                return Open(path, System.IO.FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
            }
            catch (IOException) when (File.Exists(path))
            {
                return null; // FileShare.None is an exclusive flock() on Unix, a share lock on Windows
            }
        }

        int fd = UnixNative.Open(path, UnixNative.ReadWrite | UnixNative.Create | UnixNative.NoFollow | UnixNative.CloseOnExec, (uint)FileMode);
        if (fd < 0)
        {
            int error = UnixNative.LastError;
            throw error == UnixNative.ErrorLoop
                ? new FetchException(FetchFailure.State, $"the lock file {path} is a symbolic link, which poplib never creates: someone else may have planted it; remove it and check the folder")
                : new IOException($"cannot open the lock file {path}: {UnixNative.Describe(error)}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            UnixNative.FileStatus? status = UnixNative.Status(handle);
            if (status is not { } found || !StrictModes.IsOurOwnPlainFile(found))
                throw new FetchException(FetchFailure.State, $"the lock file {path} is not a plain file of yours with a single name: someone else may have planted it; remove it and check the folder");
            if (UnixNative.Flock(handle, UnixNative.LockExclusive | UnixNative.LockNonBlocking) != 0)
            {
                int error = UnixNative.LastError;
                if (error == UnixNative.ErrorWouldBlock)
                {
                    handle.Dispose();
                    return null;
                }

                throw new IOException($"cannot lock {path}: {UnixNative.Describe(error)}");
            }

            return new FileStream(handle, FileAccess.ReadWrite, bufferSize: 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }
}
