using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Poplib.Fetch.Platform;

namespace Poplib.Fetch.Delivery;

/// <summary>
/// The few calls that make writes survive a crash or a power cut: fsync of a file, of a directory
/// (so a rename is on disk), and syncfs for a whole group of files at once — one flush of the file
/// system instead of one per message, which is what makes group commit fast.
/// </summary>
internal static partial class Durability
{
    /// <summary>Makes the given files' contents durable: one syncfs for a group on Linux, else fsync each.</summary>
    public static void SyncFiles(IReadOnlyList<FileStream> files, string directory)
    {
        if (files.Count > 1 && OperatingSystem.IsLinux())
        {
            using var folder = new SafeFileHandle(OpenDirectory(directory), ownsHandle: true);
            SyncFiles(files, folder, directory);
            return;
        }

        foreach (FileStream file in files)
            file.Flush(flushToDisk: true);
    }

    /// <summary><see cref="SyncFiles(IReadOnlyList{FileStream}, string)"/> with the files' folder already open.</summary>
    public static void SyncFiles(IReadOnlyList<FileStream> files, OpenFolder folder)
    {
        if (folder.Handle is null || files.Count <= 1)
        {
            SyncFiles(files, folder.Path);
            return;
        }

        SyncFiles(files, folder.Handle, folder.Path);
    }

    private static void SyncFiles(IReadOnlyList<FileStream> files, SafeHandle folder, string path)
    {
        foreach (FileStream file in files)
            file.Flush(flushToDisk: false);
        if (SyncFileSystem(folder) != 0)
            throw Failure("syncfs", path);
    }

    /// <summary>fsync on a directory, so the names created or renamed in it are on disk.</summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
            return; // NTFS journals renames; directories cannot be opened for flushing there.
        using var folder = new SafeFileHandle(OpenDirectory(directory), ownsHandle: true);
        if (FileSync(folder) != 0)
            throw Failure("fsync", directory);
    }

    /// <summary>fsync on an open folder.</summary>
    public static void SyncDirectory(OpenFolder folder)
    {
        if (folder.Handle is null)
            SyncDirectory(folder.Path);
        else if (FileSync(folder.Handle) != 0)
            throw Failure("fsync", folder.Path);
    }

    private static int OpenDirectory(string directory)
    {
        // The flags' values are Linux's (and O_DIRECTORY's differs between architectures); elsewhere none is needed.
        int fd = UnixNative.Open(directory, UnixNative.ReadOnly | (OperatingSystem.IsLinux() ? UnixNative.Directory | UnixNative.CloseOnExec : 0), 0);
        return fd >= 0 ? fd : throw Failure("open", directory);
    }

    private static IOException Failure(string call, string path) =>
        new($"{call} failed on {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FileSync(SafeHandle fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFileSystem(SafeHandle fd);
}
