namespace Poplib.Fetch.Platform;

/// <summary>
/// Moves a file to a name that must not exist yet, as Maildir delivery does for every message. On
/// Linux one <c>renameat2(RENAME_NOREPLACE)</c>: atomic, and a single system call where
/// <see cref="File.Move(string, string)"/> normalises both paths, stats the source twice and the
/// target once, then renames (7–8 % of the CPU samples of a fetch into a Maildir on tmpfs), with
/// a window between the check and the rename in which another program's file could be replaced.
/// Elsewhere, and on a file system or C library without the flag, <see cref="File.Move(string, string)"/>.
/// </summary>
internal static class NoReplaceRename
{
    private const int ErrorInvalid = 22;        // EINVAL: the file system does not support the flag
    private const int ErrorNotImplemented = 38; // ENOSYS: a kernel older than 3.15
    private const int ErrorExists = 17;         // EEXIST

    // Cleared for the process the first time the C library or the kernel turns out to lack it.
    private static bool s_available = OperatingSystem.IsLinux();

    /// <summary>Renames <paramref name="source"/> to <paramref name="target"/>; throws <see cref="IOException"/> if the target exists or the rename fails.</summary>
    public static void Move(string source, string target)
    {
        if (s_available)
        {
            int result;
            try
            {
                result = UnixNative.RenameNoReplace(source, target);
            }
            catch (EntryPointNotFoundException)
            {
                // A C library without the renameat2 wrapper (musl before 1.2.5).
                s_available = false;
                result = -1;
            }

            if (result == 0)
                return;
            if (s_available)
            {
                int error = UnixNative.LastError;
                if (error is not (ErrorInvalid or ErrorNotImplemented))
                {
                    throw new IOException(error == ErrorExists
                        ? $"cannot move {source} to {target}: the target exists"
                        : $"cannot move {source} to {target}: {UnixNative.Describe(error)}");
                }

                if (error == ErrorNotImplemented)
                    s_available = false;
            }
        }

        File.Move(source, target);
    }
}
