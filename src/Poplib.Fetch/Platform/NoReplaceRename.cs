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
        if (!Renamed(static s => UnixNative.RenameNoReplace(s.Source, s.Target), (Source: source, Target: target), static s => s))
            File.Move(source, target);
    }

    /// <summary>
    /// Renames <paramref name="name"/> in <paramref name="from"/> to <paramref name="newName"/> in
    /// <paramref name="to"/>, each relative to its open folder (no path walked again); as <see cref="Move(string, string)"/> otherwise.
    /// </summary>
    public static void Move(OpenFolder from, string name, OpenFolder to, string newName)
    {
        if (from.Handle is null || to.Handle is null)
            Move(from.PathOf(name), to.PathOf(newName));
        else if (!Renamed(static s => UnixNative.RenameNoReplace(s.From.Handle!, s.Name, s.To.Handle!, s.NewName), (From: from, Name: name, To: to, NewName: newName),
                     static s => (s.From.PathOf(s.Name), s.To.PathOf(s.NewName))))
            File.Move(from.PathOf(name), to.PathOf(newName));
    }

    /// <summary>
    /// Runs renameat2: true when it renamed; false when the C library, kernel or file system lacks it
    /// (the caller falls back to <see cref="File.Move(string, string)"/>); throws on any other failure.
    /// The static delegates keep the per-message call free of allocations.
    /// </summary>
    private static bool Renamed<TState>(Func<TState, int> rename, TState state, Func<TState, (string Source, string Target)> paths)
    {
        if (!s_available)
            return false;
        int result;
        try
        {
            result = rename(state);
        }
        catch (EntryPointNotFoundException)
        {
            // A C library without the renameat2 wrapper (musl before 1.2.5).
            s_available = false;
            return false;
        }

        if (result == 0)
            return true;
        int error = UnixNative.LastError;
        if (error is ErrorInvalid or ErrorNotImplemented)
        {
            if (error == ErrorNotImplemented)
                s_available = false;
            return false;
        }

        (string source, string target) = paths(state);
        throw new IOException(error == ErrorExists
            ? $"cannot move {source} to {target}: the target exists"
            : $"cannot move {source} to {target}: {UnixNative.Describe(error)}");
    }
}
