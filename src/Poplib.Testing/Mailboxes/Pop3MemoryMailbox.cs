namespace Poplib.Testing;

/// <summary>
/// A mailbox held in memory. Thread-safe: tests may <see cref="Add"/> messages while a server runs; a
/// session sees the messages present when it logged in.
/// </summary>
public sealed class Pop3MemoryMailbox : IPop3Mailbox
{
    private readonly List<Pop3MailboxMessage> _messages = [];
    private readonly Dictionary<Pop3MailboxMessage, byte[]> _contents = new(ReferenceEqualityComparer.Instance);
    private int _nextUid = 1;

    /// <summary>The number of messages now held.</summary>
    public int Count
    {
        get
        {
            lock (_messages)
                return _messages.Count;
        }
    }

    /// <summary>The messages now held, as added (line endings untouched).</summary>
    public IReadOnlyList<byte[]> Messages
    {
        get
        {
            lock (_messages)
                return [.. _messages.Select(m => _contents[m])];
        }
    }

    /// <summary>Adds a message (a copy of <paramref name="content"/>) at the end; returns its UID.</summary>
    /// <param name="content">The message, with LF or CRLF line endings.</param>
    /// <param name="uid">The UIDL id; by default <c>msg-N</c> with N counting up from 1.</param>
    public string Add(byte[] content, string? uid = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        byte[] copy = [.. content];
        lock (_messages)
        {
            var message = Pop3MailboxMessage.FromBytes(uid ?? $"msg-{_nextUid++}", copy);
            _messages.Add(message);
            _contents.Add(message, copy);
            return message.Uid;
        }
    }

    ValueTask<IReadOnlyList<Pop3MailboxMessage>> IPop3Mailbox.OpenAsync(CancellationToken cancellationToken)
    {
        lock (_messages)
            return ValueTask.FromResult<IReadOnlyList<Pop3MailboxMessage>>([.. _messages]);
    }

    ValueTask IPop3Mailbox.CommitAsync(IReadOnlyList<Pop3MailboxMessage> deleted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deleted);
        lock (_messages)
        {
            foreach (Pop3MailboxMessage message in deleted)
            {
                _messages.Remove(message);
                _contents.Remove(message);
            }
        }

        return ValueTask.CompletedTask;
    }
}
