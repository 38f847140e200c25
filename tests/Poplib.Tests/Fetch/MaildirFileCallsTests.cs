using System.Runtime.Versioning;
using Poplib.Fetch.Platform;

namespace Poplib.Tests.Fetch;

/// <summary>
/// The two file calls every Maildir message makes: creating its private file in tmp/ and moving it
/// into new/ — each done with one system call on Linux, and neither ever replacing another file.
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
}
