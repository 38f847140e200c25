using System.Globalization;
using System.Text.RegularExpressions;

namespace Poplib.Fetch.Delivery;

/// <summary>
/// Delivers into a Maildir as the format prescribes — write in <c>tmp/</c>, flush to disk, rename into
/// <c>new/</c>, flush the directory — in groups: one file-system sync for the group's files, one
/// state commit naming their final names, the renames, one directory sync, one state commit. On
/// Linux, tmp/ and new/ are held open for the destination's life and every file is created,
/// renamed and synced relative to them (see <see cref="OpenFolder"/>).
/// </summary>
internal sealed partial class MaildirDestination : FileDestination
{
    private static readonly string Host = SafeHostName();
    // Per process, not per destination: two accounts delivering into one Maildir must not collide.
    private static int s_sequence;
    private readonly string _root;
    // tmp/ with a trailing separator: a message's path is made in one piece, not joined.
    private readonly string _tmpPrefix;
    // tmp/ and new/, held open for the destination's life (on Linux; elsewhere their paths).
    private readonly OpenFolder _tmp;
    private readonly OpenFolder _new;

    public MaildirDestination(string root)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _tmpPrefix = Path.Combine(_root, "tmp") + Path.DirectorySeparatorChar;
        try
        {
            foreach (string sub in new[] { "tmp", "new", "cur" })
                PrivateFiles.CreateFolder(Path.Combine(_root, sub));
            _tmp = OpenFolder.Open(Path.Combine(_root, "tmp"));
            _new = OpenFolder.Open(Path.Combine(_root, "new"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _tmp?.Dispose();
            throw new FetchException(FetchFailure.Destination, $"cannot create the Maildir {_root}: {e.Message}", e);
        }
    }

    public override string Name => "maildir:" + _root;

    public override StagedMessage Stage(MessageKey key, long serverSize)
    {
        // The classic unique name: seconds, microseconds, process and a per-process counter, host.
        DateTimeOffset now = DateTimeOffset.UtcNow;
        string path = string.Create(CultureInfo.InvariantCulture,
            $"{_tmpPrefix}{now.ToUnixTimeSeconds()}.M{now.Ticks / 10 % 1_000_000}P{Environment.ProcessId}Q{Interlocked.Increment(ref s_sequence)}.{Host}");
        // Unbuffered: MessageWriter hands over 32 KiB pieces. Mode 0600: mail is for its owner only.
        FileStream file = PrivateFiles.CreateNew(_tmp, path[_tmpPrefix.Length..], FileAccess.Write);
        return new StagedMessage(key, serverSize, file, path);
    }

    public override IReadOnlyList<StagedMessage> Commit(IReadOnlyList<StagedMessage> group, DeliveryJournal journal, Action<string> warn)
    {
        if (group.Count == 0)
            return group;
        Durability.SyncFiles([.. group.Select(m => m.File)], _tmp);
        foreach (StagedMessage message in group)
        {
            message.File.Dispose();
            // ",S=" carries the size so readers (Dovecot among them) need not stat the file.
            message.Location = string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(message.TemporaryPath.AsSpan())},S={message.Content.Length}");
        }

        journal.Prepare(group);
        journal.EnsureHeld();
        foreach (StagedMessage message in group)
        {
            NoReplaceRename.Move(_tmp, message.TemporaryPath![_tmpPrefix.Length..], _new, message.Location!);
            message.InPlace = true;
        }

        Durability.SyncDirectory(_new);
        journal.Confirm(group);
        return group;
    }

    public override void Recover(IReadOnlyList<StoredMessage> delivering, DeliveryJournal journal, Action<string> warn)
    {
        var delivered = new List<StoredMessage>();
        var forgotten = new List<MessageKey>();
        bool moved = false;
        foreach (StoredMessage row in delivering)
        {
            string? name = row.Location;
            if (name is null || name.Contains('/', StringComparison.Ordinal))
            {
                forgotten.Add(row.Key);
                continue;
            }

            if (IsInPlace(name))
            {
                delivered.Add(row);
                continue;
            }

            // The state named it before the rename, so the file in tmp/ is complete and synced: finish the move.
            string temporary = Path.Combine(_root, "tmp", TemporaryName(name));
            if (File.Exists(temporary))
            {
                NoReplaceRename.Move(temporary, Path.Combine(_root, "new", name));
                moved = true;
                delivered.Add(row);
                continue;
            }

            forgotten.Add(row.Key);
        }

        if (moved)
            Durability.SyncDirectory(Path.Combine(_root, "new"));
        journal.ConfirmRecovered(delivered);
        journal.Forget(forgotten);
        RemoveAbandonedTemporaryFiles(warn);
    }

    public override void Dispose()
    {
        _tmp.Dispose();
        _new.Dispose();
    }

    /// <summary>In new/, or in cur/ where a mail reader may have moved it and appended ":2,flags".</summary>
    private bool IsInPlace(string name)
    {
        if (File.Exists(Path.Combine(_root, "new", name)) || File.Exists(Path.Combine(_root, "cur", name)))
            return true;
        foreach (string sub in new[] { "cur", "new" })
        {
            if (Directory.EnumerateFiles(Path.Combine(_root, sub), name + ":*").Any())
                return true;
        }

        return false;
    }

    private static string TemporaryName(string name)
    {
        int size = name.LastIndexOf(",S=", StringComparison.Ordinal);
        return size < 0 ? name : name[..size];
    }

    /// <summary>
    /// tmp/ files this host's poplib left when it was killed mid-message (their process is gone). Other
    /// programs' files, and files of live processes, are left alone.
    /// </summary>
    private void RemoveAbandonedTemporaryFiles(Action<string> warn)
    {
        foreach (string path in Directory.EnumerateFiles(Path.Combine(_root, "tmp")))
        {
            Match match = TemporaryFileName().Match(Path.GetFileName(path));
            if (!match.Success || match.Groups["host"].Value != Host)
                continue;
            int pid = int.Parse(match.Groups["pid"].Value, CultureInfo.InvariantCulture);
            if (pid == Environment.ProcessId || ProcessProbe.IsAlive(pid))
                continue;
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                warn($"cannot remove the abandoned partial message {path}: {e.Message}");
            }
        }
    }

    private static string SafeHostName() =>
        // '/' and ':' cannot appear in a Maildir name (RFC-less convention: replace them by octal escapes).
        Environment.MachineName.Replace("/", "\\057", StringComparison.Ordinal).Replace(":", "\\072", StringComparison.Ordinal);

    [GeneratedRegex(@"^\d+\.M\d+P(?<pid>\d+)Q\d+\.(?<host>.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex TemporaryFileName();
}
