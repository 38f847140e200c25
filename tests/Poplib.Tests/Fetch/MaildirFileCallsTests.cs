using System.Runtime.Versioning;
using Poplib.Fetch.Platform;

namespace Poplib.Tests.Fetch;

/// <summary>
/// The two file calls every Maildir message makes: creating its private file in tmp/ and moving it
/// into new/ — each done with one system call on Linux, and neither ever replacing another file;
/// by path, and relative to open folders (openat, renameat2) as a Maildir delivery makes them.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class MaildirFileCallsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("poplib-filecalls-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_new_file_is_private_and_written_through()
    {
        string path = Path.Combine(_folder, "message");
        using (FileStream file = PrivateFiles.CreateNew(path, FileAccess.Write))
        {
            file.Write("Subject: hi\n\nbody\n"u8);
            file.Flush(flushToDisk: true);
        }

        Assert.Equal("Subject: hi\n\nbody\n", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_new_file_never_takes_an_existing_name_nor_follows_a_link_in_its_place()
    {
        string existing = Path.Combine(_folder, "taken");
        File.WriteAllText(existing, "someone's");
        Assert.Throws<IOException>(() => PrivateFiles.CreateNew(existing, FileAccess.Write));
        Assert.Equal("someone's", File.ReadAllText(existing));

        string victim = Path.Combine(_folder, "victim");
        File.WriteAllText(victim, "untouched");
        string link = Path.Combine(_folder, "planted");
        File.CreateSymbolicLink(link, victim);
        Assert.Throws<IOException>(() => PrivateFiles.CreateNew(link, FileAccess.Write));
        Assert.Equal("untouched", File.ReadAllText(victim));
    }

    [Fact]
    public void A_new_file_that_cannot_be_created_names_its_path()
    {
        string path = Path.Combine(_folder, "no-such-folder", "message");

        IOException failed = Assert.Throws<IOException>(() => PrivateFiles.CreateNew(path, FileAccess.Write));

        Assert.Contains(path, failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_move_puts_the_file_under_its_new_name()
    {
        string source = Path.Combine(_folder, "tmp-name");
        string target = Path.Combine(_folder, "new-name,S=4");
        File.WriteAllText(source, "mail");

        NoReplaceRename.Move(source, target);

        Assert.False(File.Exists(source));
        Assert.Equal("mail", File.ReadAllText(target));
    }

    [Fact]
    public void A_move_never_replaces_a_file_already_there()
    {
        string source = Path.Combine(_folder, "tmp-name");
        string target = Path.Combine(_folder, "new-name");
        File.WriteAllText(source, "ours");
        File.WriteAllText(target, "delivered before");

        IOException refused = Assert.Throws<IOException>(() => NoReplaceRename.Move(source, target));

        Assert.Contains("exists", refused.Message, StringComparison.Ordinal);
        Assert.Equal("ours", File.ReadAllText(source));
        Assert.Equal("delivered before", File.ReadAllText(target));
    }

    [Fact]
    public void A_move_of_a_missing_file_fails_and_names_both_paths()
    {
        string source = Path.Combine(_folder, "gone");
        string target = Path.Combine(_folder, "new-name");

        IOException failed = Assert.Throws<IOException>(() => NoReplaceRename.Move(source, target));

        Assert.Contains(source, failed.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void A_new_file_in_an_open_folder_is_private_and_never_takes_an_existing_name_nor_follows_a_link()
    {
        using OpenFolder folder = OpenLinuxFolder();
        using (FileStream file = PrivateFiles.CreateNew(folder, "message", FileAccess.Write))
            file.Write("mail\n"u8);
        string path = Path.Combine(_folder, "message");
        Assert.Equal("mail\n", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        File.WriteAllText(Path.Combine(_folder, "victim"), "untouched");
        File.CreateSymbolicLink(Path.Combine(_folder, "planted"), Path.Combine(_folder, "victim"));
        Assert.Throws<IOException>(() => PrivateFiles.CreateNew(folder, "message", FileAccess.Write));
        IOException planted = Assert.Throws<IOException>(() => PrivateFiles.CreateNew(folder, "planted", FileAccess.Write));
        Assert.Contains(Path.Combine(_folder, "planted"), planted.Message, StringComparison.Ordinal);
        Assert.Equal("mail\n", File.ReadAllText(path));
        Assert.Equal("untouched", File.ReadAllText(Path.Combine(_folder, "victim")));
    }

    [Fact]
    public void A_move_between_open_folders_renames_never_replaces_and_names_both_paths_when_it_fails()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "tmp"));
        Directory.CreateDirectory(Path.Combine(_folder, "new"));
        using OpenFolder tmp = OpenLinuxFolder("tmp");
        using OpenFolder @new = OpenLinuxFolder("new");
        File.WriteAllText(Path.Combine(_folder, "tmp", "a"), "first");
        File.WriteAllText(Path.Combine(_folder, "tmp", "b"), "second");

        NoReplaceRename.Move(tmp, "a", @new, "a,S=5");
        File.Move(Path.Combine(_folder, "tmp", "b"), Path.Combine(_folder, "tmp", "c"));
        File.WriteAllText(Path.Combine(_folder, "new", "taken"), "delivered before");
        IOException refused = Assert.Throws<IOException>(() => NoReplaceRename.Move(tmp, "c", @new, "taken"));
        IOException missing = Assert.Throws<IOException>(() => NoReplaceRename.Move(tmp, "gone", @new, "x"));

        Assert.Equal("first", File.ReadAllText(Path.Combine(_folder, "new", "a,S=5")));
        Assert.False(File.Exists(Path.Combine(_folder, "tmp", "a")));
        Assert.Contains("exists", refused.Message, StringComparison.Ordinal);
        Assert.Equal("delivered before", File.ReadAllText(Path.Combine(_folder, "new", "taken")));
        Assert.Equal("second", File.ReadAllText(Path.Combine(_folder, "tmp", "c")));
        Assert.Contains(Path.Combine(_folder, "tmp", "gone"), missing.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_folder, "new", "x"), missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_known_by_its_path_only_creates_and_moves_the_same_way()
    {
        // What the delivery does where folders cannot be held open (systems other than Linux).
        Directory.CreateDirectory(Path.Combine(_folder, "tmp"));
        Directory.CreateDirectory(Path.Combine(_folder, "new"));
        using OpenFolder tmp = OpenFolder.ByPath(Path.Combine(_folder, "tmp"));
        using OpenFolder @new = OpenFolder.ByPath(Path.Combine(_folder, "new"));
        Assert.Null(tmp.Handle);
        using (FileStream file = PrivateFiles.CreateNew(tmp, "a", FileAccess.Write))
            file.Write("mail\n"u8);
        File.WriteAllText(Path.Combine(_folder, "new", "taken"), "delivered before");

        NoReplaceRename.Move(tmp, "a", @new, "a,S=5");
        File.WriteAllText(Path.Combine(_folder, "tmp", "b"), "second");
        Assert.Throws<IOException>(() => NoReplaceRename.Move(tmp, "b", @new, "taken"));
        Assert.Throws<IOException>(() => PrivateFiles.CreateNew(tmp, "b", FileAccess.Write));

        Assert.Equal("mail\n", File.ReadAllText(Path.Combine(_folder, "new", "a,S=5")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_folder, "new", "a,S=5")));
        Assert.Equal("delivered before", File.ReadAllText(Path.Combine(_folder, "new", "taken")));
    }

    private OpenFolder OpenLinuxFolder(string? sub = null)
    {
        OpenFolder folder = OpenFolder.Open(sub is null ? _folder : Path.Combine(_folder, sub));
        Assert.NotNull(folder.Handle); // held open: the suite runs on Linux
        return folder;
    }
}
