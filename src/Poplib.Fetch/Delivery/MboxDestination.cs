using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Poplib.Fetch.Delivery;

/// <summary>
/// Appends to an mbox in mboxrd form ("From " lines quoted with one more '&gt;', so reading it back is
/// exact), under the dot-lock and fcntl lock, a group at a time: the state first records each
/// message's offset, length and SHA-256, then the group is appended and fsync'd, then confirmed. A
/// failed append is truncated back; after a crash, <see cref="Recover"/> checks each recorded region
/// byte for byte, keeps the complete ones and cuts off a partial tail.
/// </summary>
internal sealed partial class MboxDestination : FileDestination
{
    private readonly string _path;
    private readonly string _directory;

    public MboxDestination(string path)
    {
        _path = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        _directory = Path.GetDirectoryName(_path)!;
        try
        {
            PrivateFiles.CreateFolder(_directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FetchException(FetchFailure.Destination, $"cannot create the folder for the mbox {_path}: {e.Message}", e);
        }
    }

    public override string Name => "mbox:" + _path;

    public override StagedMessage Stage(MessageKey key, long serverSize)
    {
        FileStream spool = PrivateFiles.CreateUnnamed(_directory);
        var writer = new MessageWriter(spool, quoteFrom: true);
        // mboxrd's separator line. The envelope sender is not known to POP3, so the conventional placeholder.
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        writer.WriteVerbatim(Encoding.ASCII.GetBytes(FromLine(now)));
        return new StagedMessage(key, serverSize, spool, writer, temporaryPath: null, terminate: true) { FromLineTime = now };
    }

    /// <summary>The separator line, in asctime's layout (day of month padded with a space).</summary>
    internal static string FromLine(long unixSeconds)
    {
        DateTime when = DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"From MAILER-DAEMON {when:ddd MMM} {when.Day,2} {when:HH:mm:ss yyyy}\n");
    }

    public override IReadOnlyList<StagedMessage> Commit(IReadOnlyList<StagedMessage> group, DeliveryJournal journal, Action<string> warn)
    {
        if (group.Count == 0)
            return group;
        bool created = !File.Exists(_path);
        using FileStream mbox = OpenMbox();
        if (created)
            Durability.SyncDirectory(_directory); // the new file's name must survive a crash too
        using MboxLock held = MboxLock.Acquire(_path, mbox);
        long start = mbox.Length;
        byte[] separator = SeparatorNeeded(mbox);
        long offset = start + separator.Length;
        foreach (StagedMessage message in group)
        {
            message.Location = string.Create(CultureInfo.InvariantCulture, $"{offset}+{message.Content.Length}@{message.FromLineTime}");
            offset += message.Content.Length;
        }

        journal.Prepare(group);
        try
        {
            journal.EnsureHeld();
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
            throw new FetchException(FetchFailure.Destination, $"cannot append to the mbox {_path} (left as it was): {e.Message}", e);
        }

        journal.Confirm(group);
        return group;
    }

    public override void Recover(IReadOnlyList<StoredMessage> delivering, DeliveryJournal journal, Action<string> warn)
    {
        PrivateFiles.RemoveAbandonedSpools(_directory);
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
            if (TailIsOurs(mbox, [.. rows.Skip(firstBad).Select(r => r.Region)]))
            {
                // Only this account's interrupted group follows: remove it.
                mbox.SetLength(cut);
                mbox.Flush(flushToDisk: true);
            }
            else
            {
                warn($"the mbox {_path} holds an incomplete message at offset {cut} from an interrupted run, and mail that another program appended since; it was left in place and the message will be fetched again");
            }
        }

        journal.ConfirmRecovered(delivered);
        journal.Forget(rows.Skip(firstBad).Select(r => r.Row.Key));
    }

    public override void Dispose()
    {
    }

    private FileStream OpenMbox()
    {
        try
        {
            FileStream mbox = PrivateFiles.Open(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite, 64 * 1024);
            // In a shared mail folder another user could have put a link to a file of theirs where
            // the mbox should be, and read everything appended to it: only our own plain file will do.
            if (StrictModes.Enforced && (UnixNative.Status(mbox.SafeFileHandle) is not { } status || !StrictModes.IsOurOwnPlainFile(status)))
            {
                mbox.Dispose();
                throw new FetchException(FetchFailure.Destination, $"the mbox {_path} is not a plain file of yours with a single name (another user's file, or a link to one); nothing was appended");
            }

            return mbox;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FetchException(FetchFailure.Destination, $"cannot open the mbox {_path}: {e.Message}", e);
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
    /// Whether everything from the first unconfirmed region to the end of the file is a partial write
    /// of this account's interrupted group, and nothing else: shorter than the group, our own dated
    /// separator lines at our offsets, and no other "From " separator anywhere — at a line start, or
    /// glued to the end of a partial line by a writer that did not check for one. Our regions are
    /// mboxrd-quoted, so they hold no unquoted separator but ours. In doubt, the answer is no: junk
    /// left in place is recoverable by hand, another program's mail cut off is not.
    /// </summary>
    private static bool TailIsOurs(FileStream mbox, IReadOnlyList<(long Offset, long Length, long Stamp)> ours)
    {
        long cut = ours[0].Offset;
        if (ours.Any(r => r.Stamp < 0))
            return false; // our separators cannot be recognised: leave the tail, with a warning
        long intended = ours.Sum(r => r.Length);
        if (mbox.Length - cut >= intended)
            return false; // as long as what we meant to write, yet different: not a partial write of ours
        var separators = ours.ToDictionary(r => r.Offset, r => Encoding.ASCII.GetBytes(FromLine(r.Stamp)));
        foreach ((long offset, byte[] line) in separators)
        {
            if (offset >= mbox.Length)
                continue;
            byte[] found = new byte[(int)Math.Min(line.Length, mbox.Length - offset)];
            mbox.Seek(offset, SeekOrigin.Begin);
            mbox.ReadExactly(found);
            if (!line.AsSpan(0, found.Length).SequenceEqual(found))
                return false;
        }

        const int Overlap = 96; // longer than any separator line the pattern matches
        byte[] buffer = new byte[1024 * 1024];
        string carry = "";
        long carryStart = cut;
        mbox.Seek(cut, SeekOrigin.Begin);
        int read;
        while ((read = mbox.Read(buffer, 0, buffer.Length)) > 0)
        {
            string text = carry + Encoding.Latin1.GetString(buffer, 0, read);
            foreach (Match match in ForeignSeparator().Matches(text))
            {
                long at = carryStart + match.Index + (match.Value[0] == '\n' ? 1 : 0);
                if (!separators.ContainsKey(at))
                    return false;
            }

            int keep = Math.Min(Overlap, text.Length);
            carryStart += text.Length - keep;
            carry = text[^keep..];
        }

        return true;
    }

    /// <summary>A "From " line start, or an asctime-dated separator anywhere (glued to a partial line).</summary>
    [GeneratedRegex(@"\nFrom |From \S+ (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]?\d \d\d:\d\d:\d\d \d{4}", RegexOptions.CultureInvariant)]
    private static partial Regex ForeignSeparator();

    private static bool RegionMatches(FileStream mbox, (long Offset, long Length, long Stamp) region, string? digest)
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

    /// <summary>
    /// "offset+length@stamp" (the stamp dates our separator line), or "offset+length" without one
    /// (regions can still be checked by hash, but a tail without stamps is never cut); -1s when unreadable.
    /// </summary>
    internal static (long Offset, long Length, long Stamp) ParseLocation(string? location)
    {
        string[] parts = (location ?? "").Split('+', '@');
        long stamp = -1;
        return parts.Length is 2 or 3
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long offset)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long length)
            && (parts.Length == 2 || long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out stamp))
            ? (offset, length, stamp)
            : (-1, -1, -1);
    }
}
