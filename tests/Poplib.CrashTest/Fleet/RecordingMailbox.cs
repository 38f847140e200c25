using Poplib.Testing;

namespace Poplib.CrashTest.Fleet;

/// <summary>A login (<see cref="Committed"/> false) or a QUIT that removed messages, in the order the server saw them.</summary>
internal sealed record MailboxEvent(int Session, bool Committed, DateTime At, int Deleted);

/// <summary>
/// A <see cref="Pop3MemoryMailbox"/> that tells which session did what: each login is a numbered session, and each QUIT's
/// deletions are traced back to the session that listed those messages (every login gets message objects of its own). So the
/// harness can prove that a session frozen with its worker never removed anything after another worker took its account over.
/// </summary>
internal sealed class RecordingMailbox(Pop3MemoryMailbox inner) : IPop3Mailbox
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Pop3MailboxMessage, (Pop3MailboxMessage Inner, int Session)> _issued = new(ReferenceEqualityComparer.Instance);
    private readonly List<MailboxEvent> _events = [];
    private int _sessions;

    public Pop3MemoryMailbox Inner => inner;

    /// <summary>Logins so far; the latest login is session number <see cref="Sessions"/>.</summary>
    public int Sessions
    {
        get
        {
            lock (_gate)
                return _sessions;
        }
    }

    public IReadOnlyList<MailboxEvent> Events
    {
        get
        {
            lock (_gate)
                return [.. _events];
        }
    }

    public async ValueTask<IReadOnlyList<Pop3MailboxMessage>> OpenAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<Pop3MailboxMessage> messages = await ((IPop3Mailbox)inner).OpenAsync(cancellationToken);
        lock (_gate)
        {
            int session = ++_sessions;
            var own = new List<Pop3MailboxMessage>(messages.Count);
            foreach (Pop3MailboxMessage message in messages)
            {
                var copy = new Pop3MailboxMessage(message.Uid, message.Size, message.OpenRead);
                _issued[copy] = (message, session);
                own.Add(copy);
            }

            _events.Add(new MailboxEvent(session, Committed: false, DateTime.UtcNow, 0));
            return own;
        }
    }

    public ValueTask CommitAsync(IReadOnlyList<Pop3MailboxMessage> deleted, CancellationToken cancellationToken)
    {
        var originals = new List<Pop3MailboxMessage>(deleted.Count);
        lock (_gate)
        {
            foreach (IGrouping<int, Pop3MailboxMessage> bySession in deleted.GroupBy(m => _issued[m].Session))
                _events.Add(new MailboxEvent(bySession.Key, Committed: true, DateTime.UtcNow, bySession.Count()));
            originals.AddRange(deleted.Select(m => _issued[m].Inner));
        }

        return ((IPop3Mailbox)inner).CommitAsync(originals, cancellationToken);
    }
}
