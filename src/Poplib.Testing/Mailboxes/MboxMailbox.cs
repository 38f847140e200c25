using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Poplib.Testing.Protocol;

namespace Poplib.Testing.Mailboxes;

/// <summary>An mbox file: messages are byte ranges of one file, streamed and unquoted when sent.</summary>
internal sealed class MboxMailbox(string path) : IPop3Mailbox
{
    public async ValueTask<IReadOnlyList<Pop3MailboxMessage>> OpenAsync(CancellationToken cancellationToken)
    {
        List<MboxEntry> entries = await MboxParser.ParseAsync(path, cancellationToken).ConfigureAwait(false);
        var messages = new List<Pop3MailboxMessage>(entries.Count);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (MboxEntry entry in entries)
        {
            (long size, string digest) = await MeasureAsync(entry, cancellationToken).ConfigureAwait(false);
            // Identical copies get distinct UIDs: a counter keeps them stable as long as the order is.
            int copies = seen[digest] = seen.GetValueOrDefault(digest) + 1;
            string uid = copies == 1 ? digest : $"{digest}-{copies}";
            messages.Add(new Pop3MailboxMessage(uid, size, () => Open(entry)) { Storage = entry });
        }

        return messages;
    }

    public async ValueTask CommitAsync(IReadOnlyList<Pop3MailboxMessage> deleted, CancellationToken cancellationToken)
    {
        if (deleted.Count == 0)
            return;
        var gone = deleted.Select(m => (MboxEntry)m.Storage!).OrderBy(e => e.RawStart).ToList();
        long parsedLength = gone[0].FileLength;
        await EnsureUnchangedAsync(deleted, parsedLength, cancellationToken).ConfigureAwait(false);
        string temporary = path + ".poplib-" + Guid.NewGuid().ToString("N");
        try
        {
            FileStream source = MaildirMailbox.OpenFile(path);
            await using (source.ConfigureAwait(false))
            {
                var target = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
                await using ConfiguredAsyncDisposable closeTarget = target.ConfigureAwait(false);

                // Keep everything but the deleted messages' raw ranges, including mail appended since login.
                long kept = 0;
                foreach (MboxEntry entry in gone)
                {
                    await CopyRangeAsync(source, target, kept, entry.RawStart, cancellationToken).ConfigureAwait(false);
                    kept = entry.RawEnd;
                }

                await CopyRangeAsync(source, target, kept, Math.Max(parsedLength, source.Length), cancellationToken).ConfigureAwait(false);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// The offsets were read at login. If the file was rewritten since (another session's QUIT, a mail
    /// client), cutting those ranges would delete the wrong mail: check that each message to delete is
    /// still exactly where and what it was, by its digest, and refuse to touch the file otherwise.
    /// </summary>
    private async ValueTask EnsureUnchangedAsync(IReadOnlyList<Pop3MailboxMessage> deleted, long parsedLength, CancellationToken cancellationToken)
    {
        if (new FileInfo(path).Length < parsedLength)
            throw new IOException($"The mbox {path} shrank since login; no message was deleted.");
        foreach (Pop3MailboxMessage message in deleted)
        {
            (_, string digest) = await MeasureAsync((MboxEntry)message.Storage!, cancellationToken).ConfigureAwait(false);
            if (!message.Uid.StartsWith(digest, StringComparison.Ordinal))
                throw new IOException($"The mbox {path} changed since login (message {message.Uid} moved or differs); no message was deleted.");
        }
    }

    private FileRangeStream Open(MboxEntry entry) => new(path, entry.ContentStart, entry.ContentEnd, entry.QuoteOffsets);

    private async ValueTask<(long Size, string Digest)> MeasureAsync(MboxEntry entry, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        FileRangeStream stream = Open(entry);
        await using ConfiguredAsyncDisposable closeStream = stream.ConfigureAwait(false);
        long size = await MessageFormatter.MeasureAsync(stream, cancellationToken, hash).ConfigureAwait(false);
        return (size, Convert.ToHexStringLower(hash.GetHashAndReset())[..32]);
    }

    private static async ValueTask CopyRangeAsync(FileStream source, FileStream target, long from, long to, CancellationToken cancellationToken)
    {
        source.Position = from;
        byte[] buffer = new byte[64 * 1024];
        for (long left = to - from; left > 0;)
        {
            int read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
                break;
            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            left -= read;
        }
    }
}
