namespace Poplib.Fetch.Delivery;

/// <summary>
/// A destination whose commit and recovery are local file work, done synchronously (Maildir, mbox):
/// the asynchronous contract over it, completed at once.
/// </summary>
internal abstract class FileDestination : IMailDestination
{
    public abstract string Name { get; }

    public abstract StagedMessage Stage(MessageKey key, long serverSize);

    public abstract IReadOnlyList<StagedMessage> Commit(IReadOnlyList<StagedMessage> group, DeliveryJournal journal, Action<string> warn);

    public abstract void Recover(IReadOnlyList<StoredMessage> delivering, DeliveryJournal journal, Action<string> warn);

    public ValueTask<IReadOnlyList<StagedMessage>> CommitAsync(IReadOnlyList<StagedMessage> group, DeliveryJournal journal, Action<string> warn, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Commit(group, journal, warn));

    public ValueTask RecoverAsync(IReadOnlyList<StoredMessage> delivering, DeliveryJournal journal, Action<string> warn, CancellationToken cancellationToken)
    {
        Recover(delivering, journal, warn);
        return ValueTask.CompletedTask;
    }

    public abstract void Dispose();
}
