namespace Poplib.Fetch.Delivery;

/// <summary>
/// A destination that hands each message over to someone else who makes it durable (a delivery
/// command, an LMTP server, an application's sink): staged whole in a private spool first (an unlinked
/// file in the temporary folder: a crash leaves nothing behind), delivered one at a time through
/// <see cref="DeliveryJournal.DeliverEachAsync"/>. Whether the other side finished before a crash cannot
/// be known from here, so an interrupted row is forgotten and the message fetched again.
/// </summary>
internal abstract class SpooledDestination : IMailDestination
{
    public abstract string Name { get; }

    public StagedMessage Stage(MessageKey key, long serverSize)
    {
        FileStream spool = PrivateFiles.CreateUnnamed(Path.GetTempPath());
        return new StagedMessage(key, serverSize, spool, temporaryPath: null);
    }

    public ValueTask<IReadOnlyList<StagedMessage>> CommitAsync(IReadOnlyList<StagedMessage> group, DeliveryJournal journal, Action<string> warn, CancellationToken cancellationToken)
    {
        Warn = warn;
        return journal.DeliverEachAsync(group, DeliverAsync, warn, cancellationToken);
    }

    /// <summary>Reports a warning of the commit in progress (a message delivered with a remark).</summary>
    protected Action<string> Warn { get; private set; } = _ => { };

    public ValueTask RecoverAsync(IReadOnlyList<StoredMessage> delivering, DeliveryJournal journal, Action<string> warn, CancellationToken cancellationToken)
    {
        PrivateFiles.RemoveAbandonedSpools(Path.GetTempPath());
        foreach (StoredMessage row in delivering)
            warn(Interrupted(row.Key));
        journal.Forget(delivering.Select(r => r.Key));
        return ValueTask.CompletedTask;
    }

    public virtual void Dispose()
    {
    }

    /// <summary>Hands one spooled message over: null when it is durably accepted, the reason when it is refused (it stays on the server); throws to stop the run.</summary>
    protected abstract ValueTask<string?> DeliverAsync(StagedMessage message, CancellationToken cancellationToken);

    /// <summary>The warning for a message an interrupted run was handing over, which is fetched again.</summary>
    protected abstract string Interrupted(MessageKey key);
}
