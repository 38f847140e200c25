using System.Globalization;

namespace Poplib.Fetch.Platform;

/// <summary>
/// ssh's StrictModes for the retriever's own files. On a machine shared with other users, whoever
/// can write the state can make <c>--delete</c> remove mail that was never downloaded, whoever can
/// write the config runs commands as us, and whoever can plant a file in the lock folder can make us
/// overwrite their choice of our files. So every such path must belong to the running user, and
/// neither it nor any folder above it may be writable by anyone else (a sticky folder such as
/// /tmp excepted: others cannot rename or remove what is ours in it). A failure says which
/// chmod or chown fixes it. Linux only: elsewhere the files are still created private, but not checked.
/// </summary>
internal static class StrictModes
{
    private const uint GroupWrite = 0x10; // 020
    private const uint OtherWrite = 0x2; // 002
    private const uint GroupOrOtherAccess = 0x3F; // 077
    private const uint Sticky = 0x200;
    private const uint Root = 0;

    /// <summary>Whether the checks run here (Linux); elsewhere they are skipped.</summary>
    public static bool Enforced => OperatingSystem.IsLinux();

    /// <summary>
    /// Creates <paramref name="path"/> (and any missing parents) with mode 0700 if it does not
    /// exist, then requires it to be the running user's, writable by no one else, under folders
    /// only the user or root can change.
    /// </summary>
    /// <param name="path">The folder.</param>
    /// <param name="what">What it is, for the error message ("the state folder").</param>
    public static void RequirePrivateDirectory(string path, string what)
    {
        try
        {
            PrivateFiles.CreateFolder(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FetchException(FetchFailure.State, $"cannot create {what} {path}: {e.Message}", e);
        }

        if (!OperatingSystem.IsLinux())
            return;
        string real = Resolve(path, what, FetchFailure.State);
        UnixNative.FileStatus status = Stat(real, what, FetchFailure.State);
        if (!status.IsDirectory)
            throw new FetchException(FetchFailure.State, $"{what} {real} is not a folder");
        RequireOwnedByUs(real, status, what, FetchFailure.State);
        RequireNotWritableByOthers(real, status, what, FetchFailure.State);
        RequireTrustedAncestors(real, what, FetchFailure.State);
    }

    /// <summary>
    /// Requires an existing file the retriever keeps private (the state database) to be the running
    /// user's and writable by no one else; a file others can merely read (one written before poplib
    /// made it private) is made 0600.
    /// </summary>
    public static void RequirePrivateFile(string path, string what)
    {
        if (!OperatingSystem.IsLinux())
            return;
        UnixNative.FileStatus status = Stat(path, what, FetchFailure.State);
        if (!status.IsRegularFile)
            throw new FetchException(FetchFailure.State, $"{what} {path} is not a regular file");
        RequireOwnedByUs(path, status, what, FetchFailure.State);
        RequireNotWritableByOthers(path, status, what, FetchFailure.State);
        if ((status.Permissions & GroupOrOtherAccess) != 0)
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>
    /// Requires a file that poplib obeys (a config file that names commands to run, a CA file that
    /// decides whom to trust) to belong to the running user or root and to be writable by no one
    /// else, under folders only they can change.
    /// </summary>
    public static void RequireTrustedFile(string path, string what, FetchFailure failure)
    {
        if (!OperatingSystem.IsLinux())
            return;
        string real = Resolve(path, what, failure);
        UnixNative.FileStatus status = Stat(real, what, failure);
        if (status.Owner != Root)
            RequireOwnedByUs(real, status, what, failure);
        RequireNotWritableByOthers(real, status, what, failure);
        RequireTrustedAncestors(real, what, failure);
    }

    /// <summary>Checks an open file: a regular file of the running user's with one name (not a hard link to someone else's file).</summary>
    public static bool IsOurOwnPlainFile(UnixNative.FileStatus status) =>
        status.IsRegularFile && status.Owner == UnixNative.EffectiveUserId() && status.Links == 1;

    private static void RequireTrustedAncestors(string real, string what, FetchFailure failure)
    {
        for (string? folder = Path.GetDirectoryName(real); folder is not null; folder = Path.GetDirectoryName(folder))
        {
            UnixNative.FileStatus status = Stat(folder, what, failure);
            if (status.Owner != Root && status.Owner != UnixNative.EffectiveUserId())
            {
                throw new FetchException(failure,
                    $"{what} {real} is inside {folder}, which belongs to {UserName(status.Owner)}: that user could replace it. " +
                    $"Move it to a folder of your own, or run 'chown {Environment.UserName} {folder}'");
            }

            if (WritableByOthers(status) && (status.Permissions & Sticky) == 0)
            {
                throw new FetchException(failure,
                    $"{what} {real} is inside {folder}, which other users can write to (mode {Octal(status.Permissions)}): they could replace it. " +
                    $"Run 'chmod go-w {folder}' or move it to a folder of your own");
            }
        }
    }

    private static void RequireOwnedByUs(string path, UnixNative.FileStatus status, string what, FetchFailure failure)
    {
        if (status.Owner != UnixNative.EffectiveUserId())
        {
            throw new FetchException(failure,
                $"{what} {path} belongs to {UserName(status.Owner)}, not to you ({Environment.UserName}); " +
                $"if it is yours, run 'chown {Environment.UserName} {path}', otherwise choose another path");
        }
    }

    private static void RequireNotWritableByOthers(string path, UnixNative.FileStatus status, string what, FetchFailure failure)
    {
        if (WritableByOthers(status))
        {
            throw new FetchException(failure,
                $"{what} {path} can be changed by other users (mode {Octal(status.Permissions)}); " +
                $"check that nobody changed it, then run 'chmod go-w {path}'");
        }
    }

    private static string Resolve(string path, string what, FetchFailure failure) =>
        UnixNative.RealPath(path) ?? throw new FetchException(failure, $"cannot resolve {what} {path}: {UnixNative.Describe(UnixNative.LastError)}");

    private static UnixNative.FileStatus Stat(string path, string what, FetchFailure failure) =>
        UnixNative.Status(path, followLink: true) ?? throw new FetchException(failure, $"cannot examine {what} {path}: {UnixNative.Describe(UnixNative.LastError)}");

    private static string Octal(uint permissions) => Convert.ToString(permissions, 8).PadLeft(4, '0');

    /// <summary>
    /// Whether anyone but the owner can write: others, or a group with other members. A group that
    /// is only its owner's (the "user private group" of Debian's and Fedora's useradd, whose users
    /// often run with umask 002) counts as the owner.
    /// </summary>
    private static bool WritableByOthers(UnixNative.FileStatus status) =>
        (status.Permissions & OtherWrite) != 0 || ((status.Permissions & GroupWrite) != 0 && !IsPrivateGroup(status.Group, status.Owner));

    private static bool IsPrivateGroup(uint group, uint owner)
    {
        try
        {
            string number = group.ToString(CultureInfo.InvariantCulture);
            string? ownerName = null;
            foreach (string[] user in Entries("/etc/passwd"))
            {
                if (user[3] != number)
                    continue;
                if (user[2] != owner.ToString(CultureInfo.InvariantCulture))
                    return false; // another user's primary group too
                ownerName = user[0];
            }

            string[]? entry = Entries("/etc/group").FirstOrDefault(g => g[2] == number);
            return ownerName is not null && entry is not null
                && entry[3].Split(',', StringSplitOptions.RemoveEmptyEntries).All(member => member == ownerName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The name /etc/passwd gives the user id, or "user N".</summary>
    private static string UserName(uint id)
    {
        try
        {
            string number = id.ToString(CultureInfo.InvariantCulture);
            if (Entries("/etc/passwd").FirstOrDefault(u => u[2] == number) is { } user)
                return $"{user[0]} (uid {id})";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No names to show: the number will do.
        }

        return $"user {id}";
    }

    /// <summary>The entries of /etc/passwd or /etc/group with at least four fields (name, password, id, group id or members).</summary>
    private static IEnumerable<string[]> Entries(string file) =>
        File.ReadLines(file).Select(line => line.Split(':')).Where(fields => fields.Length >= 4);
}
