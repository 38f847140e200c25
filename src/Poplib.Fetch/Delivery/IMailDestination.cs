namespace Poplib.Fetch.Delivery;

/// <summary>
/// Where fetched mail goes. Delivery is two-phase, and each destination orders its own steps around
/// the journal so that a crash at any point leaves each message either durably delivered and
/// recorded, or recoverable by <see cref="RecoverAsync"/> — never lost, never delivered twice:
/// <list type="number">
/// <item><see cref="Stage"/>: the message is written somewhere private (Maildir's tmp/, a spool file);
/// the engine fills it and completes it.</item>
/// <item><see cref="CommitAsync"/>: make the staged bytes durable, <see cref="DeliveryJournal.Prepare"/>
/// them (recorded as <c>Delivering</c>, with their final <see cref="StagedMessage.Location"/> when
/// there is one), move or send them into place durably, <see cref="DeliveryJournal.Confirm"/> them.
/// A message the destination refuses for good (a delivery command's non-zero exit, an LMTP 5xx) or
/// for now (an LMTP 4xx) is <see cref="DeliveryJournal.Forget"/>-ten, reported through the warning
/// callback and left out of the returned list: it stays on the server and is offered again next run.</item>
/// <item><see cref="RecoverAsync"/>, at the next run: a <c>Delivering</c> row is checked against the
/// destination and either confirmed (<see cref="DeliveryJournal.ConfirmRecovered"/>), or forgotten
/// (to be fetched again). A destination that cannot check (a command, a network peer) forgets.</item>
/// </list>
/// The engine disposes the destination at the end of the run. Destinations are opened by a
/// <see cref="FetchDestination"/>; one instance serves one run.
/// </summary>
public interface IMailDestination : IDisposable
{
    /// <summary>
    /// What the state records as the destination, e.g. <c>maildir:/home/alice/Mail</c>: a later run
    /// settles rows of an interrupted one through the destination of this name.
    /// </summary>
    string Name { get; }

    /// <summary>Opens a private place for one message (a file, a spool), which the engine fills.</summary>
    /// <param name="key">The message's key.</param>
    /// <param name="serverSize">Its size as LIST gave it.</param>
    StagedMessage Stage(MessageKey key, long serverSize);

    /// <summary>
    /// Delivers a group of completed staged messages, in order, journaling as described above, and
    /// returns those delivered. Throwing means none after the journal's last confirmation is delivered:
    /// forget what was prepared and not delivered before throwing.
    /// </summary>
    ValueTask<IReadOnlyList<StagedMessage>> CommitAsync(IReadOnlyList<StagedMessage> group, DeliveryJournal journal, Action<string> warn, CancellationToken cancellationToken);

    /// <summary>
    /// Settles the rows an interrupted run left in <c>Delivering</c> for this destination (called at
    /// every run, with none too, so that scratch files of killed runs are cleared).
    /// </summary>
    ValueTask RecoverAsync(IReadOnlyList<StoredMessage> delivering, DeliveryJournal journal, Action<string> warn, CancellationToken cancellationToken);
}
