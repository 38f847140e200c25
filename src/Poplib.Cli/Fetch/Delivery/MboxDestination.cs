using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Poplib.Cli.Fetch.State;

namespace Poplib.Cli.Fetch.Delivery;

/// <summary>
/// Appends to an mbox in mboxrd form ("From " lines quoted with one more '&gt;', so reading it back is
/// exact), under the dot-lock and fcntl lock, a group at a time: the state first records each
/// message's offset, length and SHA-256, then the group is appended and fsync'd, then confirmed. A
/// failed append is truncated back; after a crash, <see cref="Recover"/> checks each recorded region
/// byte for byte, keeps the complete ones and cuts off a partial tail.
/// </summary>
internal sealed class MboxDestination : IMailDestination
{
    private readonly string _path;
    private readonly string _directory;

    public MboxDestination(string path)
    {
        _path = Path.GetFullPath(path);
        _directory = Path.GetDirectoryName(_path)!;
        try
        {
            Directory.CreateDirectory(_directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.LocalIo, $"cannot create the folder for the mbox {_path}: {e.Message}", e);
        }
    }

    public string Name => "mbox:" + _path;

    public StagedMessage Stage(string key, long serverSize)
    {
        FileStream spool = Spool.Create(_directory);
        var writer = new MessageWriter(spool, quoteFrom: true);
        // mboxrd's separator line. The envelope sender is not known to POP3, so the conventional placeholder.
        writer.WriteVerbatim(Encoding.ASCII.GetBytes(FromLine(DateTimeOffset.UtcNow)));
        return new StagedMessage(key, serverSize, spool, writer, temporaryPath: null);
    }

    internal static string FromLine(DateTimeOffset when) =>
        "From MAILER-DAEMON " + when.ToString("ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture).Replace("  ", " ", StringComparison.Ordinal) + "\n";

    public void Commit(IReadOnlyList<StagedMessage> group, DeliveryJournal journal)
    {
        if (group.Count == 0)
            return;
        using FileStream mbox = OpenMbox();
        using MboxLock held = MboxLock.Acquire(_path, mbox);
        long start = mbox.Length;
        byte[] separator = SeparatorNeeded(mbox);
        long offset = start + separator.Length;
        foreach (StagedMessage message in group)
        {
            message.Location = string.Create(CultureInfo.InvariantCulture, $"{offset}+{message.Content.Length}");
            offset += message.Content.Length;
        }

        journal.Prepare(group);
        try
        {
            mbox.Seek(start, SeekOrigin.Begin);
            mbox.Write(separator);
            foreach (StagedMessage message in group)
            {
                message.File.Seek(0, SeekOrigin.Begin);
                message.File.CopyTo(mbox);
            }

            mbox.Flush(flushToDisk: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Leave the mbox as it was: cut off whatever part of the group reached it.
            mbox.SetLength(start);
            mbox.Flush(flushToDisk: true);
            journal.Forget(group.Select(m => m.Key));
            throw new CliException(ExitCodes.LocalIo, $"cannot append to the mbox {_path} (left as it was): {e.Message}", e);
        }

        journal.Confirm(group);
    }

    public void Recover(IReadOnlyList<StoredMessage> delivering, DeliveryJournal journal, Action<string> warn)
    {
        Spool.RemoveAbandoned(_directory);
        if (delivering.Count == 0)
            return;
        var rows = delivering.Select(r => (Row: r, Region: ParseLocation(r.Location))).OrderBy(r => r.Region.Offset).ToList();
        if (!File.Exists(_path))
        {
            journal.Forget(rows.Select(r => r.Row.Key));
            return;
        }

        using FileStream mbox = OpenMbox();
        using MboxLock held = MboxLock.Acquire(_path, mbox);
        var delivered = new List<StoredMessage>();
        int firstBad = rows.Count;
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Region.Length < 0 || !RegionMatches(mbox, rows[i].Region, rows[i].Row.Digest))
            {
                firstBad = i;
                break;
            }

            delivered.Add(rows[i].Row);
        }

        if (firstBad < rows.Count && rows[firstBad].Region.Offset >= 0 && mbox.Length > rows[firstBad].Region.Offset)
        {
            long cut = rows[firstBad].Region.Offset;
            if (TailIsOurs(mbox, cut, [.. rows.Skip(firstBad).Select(r => r.Region.Offset)]))
            {
                // Only this account's interrupted group follows: remove it.
                mbox.SetLength(cut);
                mbox.Flush(flushToDisk: true);
            }
            else
            {
                warn($"the mbox {_path} holds an incomplete message at offset {cut} from an interrupted run, and mail appended since; it was left in place and the message will be fetched again");
            }
        }

        journal.ConfirmRecovered(delivered);
        journal.Forget(rows.Skip(firstBad).Select(r => r.Row.Key));
    }

    public void Dispose()
    {
    }

    private FileStream OpenMbox()
    {
        try
        {
            return new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite, 64 * 1024);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.LocalIo, $"cannot open the mbox {_path}: {e.Message}", e);
        }
    }

    /// <summary>A "From " line must follow an empty line; add what a file written by someone else lacks.</summary>
    private static byte[] SeparatorNeeded(FileStream mbox)
    {
        if (mbox.Length == 0)
            return [];
        Span<byte> tail = stackalloc byte[2];
        int n = (int)Math.Min(2, mbox.Length);
        mbox.Seek(-n, SeekOrigin.End);
        mbox.ReadExactly(tail[..n]);
        if (n == 2 && tail[0] == (byte)'\n' && tail[1] == (byte)'\n')
            return [];
        return tail[n - 1] == (byte)'\n' ? "\n"u8.ToArray() : "\n\n"u8.ToArray();
    }

    /// <summary>
    /// Whether everything from <paramref name="cut"/> to the end was written by the interrupted group:
    /// our messages are mboxrd-quoted, so the only unquoted "From " lines in them are our own
    /// separators, at the recorded offsets. A "From " line anywhere else is another program's mail.
    /// </summary>
    private static bool TailIsOurs(FileStream mbox, long cut, IReadOnlyList<long> ourOffsets)
    {
        var starts = new HashSet<long>(ourOffsets);
        ReadOnlySpan<byte> ours = "From MAILER-DAEMON "u8;
        byte[] buffer = new byte[64 * 1024];
        mbox.Seek(cut, SeekOrigin.Begin);
        long position = cut;
        bool atLineStart = true;
        int matched = 0;          // bytes of "From " matched at the current line start
        long lineStart = cut;
        int read;
        while ((read = mbox.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (int i = 0; i < read; i++, position++)
            {
                byte b = buffer[i];
                if (atLineStart)
                {
                    if (matched < ours.Length && b == ours[matched])
                    {
                        matched++;
                        if (matched == 5 && !starts.Contains(lineStart))
                            return false; // a "From " line we did not write
                        if (matched == ours.Length)
                            atLineStart = false;
                        continue;
                    }

                    if (matched >= 5)
                        return false; // "From " but not our separator
                    atLineStart = false;
                }

                if (b == (byte)'\n')
                {
                    atLineStart = true;
                    matched = 0;
                    lineStart = position + 1;
                }
            }
        }

        return true;
    }

    private static bool RegionMatches(FileStream mbox, (long Offset, long Length) region, string? digest)
    {
        if (digest is null || region.Offset < 0 || region.Offset + region.Length > mbox.Length)
            return false;
        mbox.Seek(region.Offset, SeekOrigin.Begin);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[64 * 1024];
        long left = region.Length;
        while (left > 0)
        {
            int read = mbox.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0)
                return false;
            hash.AppendData(buffer, 0, read);
            left -= read;
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset()) == digest;
    }

    private static (long Offset, long Length) ParseLocation(string? location)
    {
        string[] parts = (location ?? "").Split('+');
        return parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long offset)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long length)
            ? (offset, length)
            : (-1, -1);
    }
}
