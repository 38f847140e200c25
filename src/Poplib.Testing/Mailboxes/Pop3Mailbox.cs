using Poplib.Testing.Mailboxes;

namespace Poplib.Testing;

/// <summary>Ready-made <see cref="IPop3Mailbox"/> implementations.</summary>
public static class Pop3Mailbox
{
    /// <summary>
    /// An in-memory mailbox holding copies of <paramref name="messages"/> (LF or CRLF line endings), with
    /// UIDs <c>msg-1</c>, <c>msg-2</c> …; more can be added later through <see cref="Pop3MemoryMailbox.Add"/>.
    /// </summary>
    public static Pop3MemoryMailbox FromMessages(IEnumerable<byte[]> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var mailbox = new Pop3MemoryMailbox();
        foreach (byte[] message in messages)
            mailbox.Add(message);
        return mailbox;
    }

    /// <summary>
    /// A Maildir (<c>new/</c> and <c>cur/</c>; <c>tmp/</c> is ignored): the messages of both folders in the
    /// ordinal order of their file names; UIDL is the file name up to the first <c>:</c>. Files are
    /// streamed when sent, never loaded whole; sizes are measured at login (and remembered while a file's
    /// length and time stamp stay the same). QUIT deletes the files of DELE'd messages.
    /// </summary>
    public static IPop3Mailbox FromMaildir(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new MaildirMailbox(path);
    }

    /// <summary>
    /// <paramref name="mailbox"/> as a read-only mailbox: clients can list and read it, and their DELE
    /// is refused (<c>-ERR [SYS/PERM]</c>), so serving someone's real mail never loses any of it.
    /// </summary>
    public static IPop3Mailbox ReadOnly(IPop3Mailbox mailbox)
    {
        ArgumentNullException.ThrowIfNull(mailbox);
        return new ReadOnlyMailbox(mailbox);
    }

    private sealed class ReadOnlyMailbox(IPop3Mailbox inner) : IPop3Mailbox
    {
        public bool IsReadOnly => true;

        public ValueTask<IReadOnlyList<Pop3MailboxMessage>> OpenAsync(CancellationToken cancellationToken) => inner.OpenAsync(cancellationToken);

        public ValueTask CommitAsync(IReadOnlyList<Pop3MailboxMessage> deleted, CancellationToken cancellationToken) =>
            deleted.Count == 0 ? ValueTask.CompletedTask : throw new InvalidOperationException("A read-only mailbox deletes nothing.");
    }

    /// <summary>
    /// An mbox file (mboxrd or mboxo): messages start after each line beginning with <c>From </c>, the
    /// blank line before the next one is the separator, and one <c>&gt;</c> is removed from lines matching
    /// <c>&gt;+From </c>. UIDL is a digest of the message (with a counter for identical copies). A file
    /// that does not exist is an empty mailbox. QUIT rewrites the file without the DELE'd messages.
    /// </summary>
    public static IPop3Mailbox FromMbox(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new MboxMailbox(path);
    }
}
