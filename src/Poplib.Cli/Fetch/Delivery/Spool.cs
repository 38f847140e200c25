namespace Poplib.Cli.Fetch.Delivery;

/// <summary>
/// A private scratch file for one message that disappears by itself: on Unix it is unlinked as soon
/// as it is open, so not even a SIGKILL can leave it behind.
/// </summary>
internal static class Spool
{
    public static FileStream Create(string directory)
    {
        string path = Path.Combine(directory, $".poplib-spool-{Guid.NewGuid():N}");
        if (OperatingSystem.IsWindows())
            return new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, FileOptions.DeleteOnClose);
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024);
        File.Delete(path);
        return file;
    }
}
