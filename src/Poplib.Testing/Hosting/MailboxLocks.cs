namespace Poplib.Testing.Hosting;

/// <summary>RFC 1939's exclusive-access lock on a maildrop: at most one session per mailbox (by reference).</summary>
internal sealed class MailboxLocks
{
    private readonly HashSet<IPop3Mailbox> _held = new(ReferenceEqualityComparer.Instance);

    public bool TryAcquire(IPop3Mailbox mailbox)
    {
        lock (_held)
            return _held.Add(mailbox);
    }

    public void Release(IPop3Mailbox mailbox)
    {
        lock (_held)
            _held.Remove(mailbox);
    }
}
