namespace Poplib.Testing.Mailboxes;

/// <summary>A Maildir: one file per message in <c>new/</c> and <c>cur/</c>.</summary>
internal sealed class MaildirMailbox(string path) : IPop3Mailbox
{
    // Measuring a size reads the whole file; remember it while the file is unchanged.
    private readonly Dictionary<string, (long Length, DateTime Modified, long Size)> _sizes = new(StringComparer.Ordinal);

    public async ValueTask<IReadOnlyList<Pop3MailboxMessage>> OpenAsync(CancellationToken cancellationToken)
    {
        var files = new List<FileInfo>();
        foreach (string folder in new[] { "new", "cur" })
        {
            var directory = new DirectoryInfo(Path.Combine(path, folder));
            if (directory.Exists)
                files.AddRange(directory.EnumerateFiles().Where(f => !f.Name.StartsWith('.')));
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var messages = new List<Pop3MailboxMessage>(files.Count);
        foreach (FileInfo file in files)
        {
            string fullName = file.FullName;
            long size = await SizeOfAsync(file, cancellationToken).ConfigureAwait(false);
            messages.Add(new Pop3MailboxMessage(UidOf(file.Name), size, () => OpenFile(fullName)) { Storage = fullName });
        }

        return messages;
    }

    public ValueTask CommitAsync(IReadOnlyList<Pop3MailboxMessage> deleted, CancellationToken cancellationToken)
    {
        foreach (Pop3MailboxMessage message in deleted)
        {
            // File.Delete does not mind a file that another program already removed.
            File.Delete((string)message.Storage!);
            lock (_sizes)
                _sizes.Remove((string)message.Storage!);
        }

        return ValueTask.CompletedTask;
    }

    internal static FileStream OpenFile(string fullName) =>
        new(fullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 16 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);

    // The unique part of a Maildir name is what comes before the ":2,FLAGS" info; a UID may hold no spaces.
    private static string UidOf(string fileName)
    {
        int colon = fileName.IndexOf(':', StringComparison.Ordinal);
        string uid = colon < 0 ? fileName : fileName[..colon];
        uid = new string([.. uid.Select(c => c is < '!' or > '~' ? '_' : c)]);
        return uid.Length is > 0 and <= 70 ? uid : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(fileName)))[..40];
    }

    private async ValueTask<long> SizeOfAsync(FileInfo file, CancellationToken cancellationToken)
    {
        lock (_sizes)
        {
            if (_sizes.TryGetValue(file.FullName, out var known) && known.Length == file.Length && known.Modified == file.LastWriteTimeUtc)
                return known.Size;
        }

        long size;
        FileStream stream = OpenFile(file.FullName);
        await using (stream.ConfigureAwait(false))
            size = await Pop3MailboxMessage.MeasureAsync(stream, cancellationToken).ConfigureAwait(false);
        lock (_sizes)
            _sizes[file.FullName] = (file.Length, file.LastWriteTimeUtc, size);
        return size;
    }
}
