using System.Runtime.InteropServices;

namespace Poplib.Fetch.Platform;

/// <summary>
/// The few libc calls .NET does not expose and the retriever needs to keep its files private on a
/// machine shared with other users: open with O_NOFOLLOW or O_TMPFILE, openat, flock, renameat2, statx
/// (owner and mode of a path or an open file), fchmod, geteuid. Linux only; the flag values differ between
/// architecture families, so they are chosen at run time.
/// </summary>
internal static unsafe partial class UnixNative
{
    public const int ReadOnly = 0;
    public const int WriteOnly = 1;
    public const int ReadWrite = 2;
    public const int Create = 0x40;
    public const int Exclusive = 0x80;
    public const int CloseOnExec = 0x80000;

    // ARM and POWER keep the historic values; x86, s390x, RISC-V and LoongArch use asm-generic's.
    private static readonly bool ArmOrPower = RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 or Architecture.Armv6 or Architecture.Ppc64le;

    /// <summary>O_DIRECTORY.</summary>
    public static int Directory => ArmOrPower ? 0x4000 : 0x10000;

    /// <summary>O_NOFOLLOW: fail with ELOOP when the last component is a symbolic link.</summary>
    public static int NoFollow => ArmOrPower ? 0x8000 : 0x20000;

    /// <summary>O_TMPFILE: an unnamed file in the given directory, never visible to anyone (Linux 3.11).</summary>
    public static int TemporaryFile => 0x400000 | Directory;

    public const int LockExclusive = 2;
    public const int LockNonBlocking = 4;

    public const int ErrorPermission = 1; // EPERM
    public const int ErrorAccess = 13; // EACCES
    public const int ErrorWouldBlock = 11; // EAGAIN / EWOULDBLOCK
    public const int ErrorLoop = 40; // ELOOP: a symbolic link where O_NOFOLLOW forbids one

    private const int AtCurrentDirectory = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const uint RenameNoReplaceFlag = 1; // RENAME_NOREPLACE

    /// <summary>Owner, group, link count and mode of a file, as statx reports them.</summary>
    public readonly record struct FileStatus(uint Owner, uint Group, uint Links, uint Mode)
    {
        public bool IsDirectory => (Mode & 0xF000) == 0x4000;

        public bool IsRegularFile => (Mode & 0xF000) == 0x8000;

        public bool IsSymbolicLink => (Mode & 0xF000) == 0xA000;

        /// <summary>The permission bits (and setuid, setgid, sticky).</summary>
        public uint Permissions => Mode & 0xFFF;
    }

    public static int LastError => Marshal.GetLastPInvokeError();

    public static string Describe(int error) => Marshal.GetPInvokeErrorMessage(error);

    /// <summary>statx of a path; the last component is not followed when <paramref name="followLink"/> is false. Null with <see cref="LastError"/> set on failure.</summary>
    public static FileStatus? Status(string path, bool followLink)
    {
        byte* buffer = stackalloc byte[256];
        return Statx(AtCurrentDirectory, path, followLink ? 0 : AtSymlinkNoFollow, StatxBasicStats, buffer) == 0 ? Read(buffer) : null;
    }

    /// <summary>statx of an open file descriptor.</summary>
    public static FileStatus? Status(SafeHandle file)
    {
        byte* buffer = stackalloc byte[256];
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            return Statx((int)file.DangerousGetHandle(), "", AtEmptyPath, StatxBasicStats, buffer) == 0 ? Read(buffer) : null;
        }
        finally
        {
            if (added)
                file.DangerousRelease();
        }
    }

    // struct statx is the same on every architecture: stx_nlink at 16, stx_uid at 20, stx_gid at 24, stx_mode at 28.
    private static FileStatus Read(byte* buffer) =>
        new(*(uint*)(buffer + 20), *(uint*)(buffer + 24), *(uint*)(buffer + 16), *(ushort*)(buffer + 28));

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, uint mode);

    /// <summary>openat: <paramref name="name"/> (one component) in the open folder <paramref name="directory"/>.</summary>
    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(SafeHandle directory, string name, int flags, uint mode);

    /// <summary>renameat2 with RENAME_NOREPLACE (Linux 3.15, glibc 2.28): fails with EEXIST rather than replace the target. 0, or -1 with <see cref="LastError"/> set.</summary>
    public static int RenameNoReplace(string source, string target) =>
        RenameAt(AtCurrentDirectory, source, AtCurrentDirectory, target, RenameNoReplaceFlag);

    /// <summary><see cref="RenameNoReplace(string, string)"/> with each name relative to an open folder.</summary>
    public static int RenameNoReplace(SafeHandle sourceDirectory, string source, SafeHandle targetDirectory, string target) =>
        RenameAt(sourceDirectory, source, targetDirectory, target, RenameNoReplaceFlag);

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt(int sourceDirectory, string source, int targetDirectory, string target, uint flags);

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt(SafeHandle sourceDirectory, string source, SafeHandle targetDirectory, string target, uint flags);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(SafeHandle file, int operation);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    public static partial int ChangeMode(SafeHandle file, uint mode);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint EffectiveUserId();

    /// <summary>The canonical absolute path (every symbolic link resolved), or null with <see cref="LastError"/> set.</summary>
    public static string? RealPath(string path)
    {
        byte* resolved = RealPath(path, null);
        if (resolved is null)
            return null;
        try
        {
            return Marshal.PtrToStringUTF8((nint)resolved);
        }
        finally
        {
            Free(resolved);
        }
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial byte* RealPath(string path, byte* resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(byte* memory);
}
