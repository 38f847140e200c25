using Poplib.Cli.Fetch.State;

namespace Poplib.Cli.Fetch.Delivery;

/// <summary>
/// Where fetched mail goes. Delivery is two-phase, and each destination orders its own steps around
/// the journal so that a crash at any point leaves each message either durably delivered and
/// recorded, or recoverable by <see cref="Recover"/> — never lost, never delivered twice:
/// <list type="number">
/// <item><see cref="Stage"/>: the message is written somewhere private (Maildir's tmp/, a spool file).</item>
/// <item><see cref="Commit"/>: make the staged bytes durable, record them as <c>Delivering</c> with
/// their final location, move them into place durably, record them as <c>Delivered</c>.</item>
/// <item><see cref="Recover"/>, at the next run: a <c>Delivering</c> row is checked against the
/// destination and either confirmed, rolled forward, or forgotten (to be fetched again).</item>
/// </list>
/// </summary>
internal interface IMailDestination : IDisposable
{
    /// <summary>What the state records as the destination, e.g. <c>maildir:/home/alice/Mail</c>.</summary>
    string Name { get; }

    /// <summary>Opens a private place for one message; write it through <see cref="StagedMessage.Writer"/>.</summary>
    StagedMessage Stage(string key, long serverSize);

    /// <summary>
    /// Delivers a group of completed staged messages, in order, journaling as described above, and
    /// returns those delivered: all of them, except where a delivery command rejected one (those are
    /// reported through <paramref name="warn"/>, forgotten, and stay on the server).
    /// </summary>
    IReadOnlyList<StagedMessage> Commit(IReadOnlyList<StagedMessage> group, DeliveryJournal journal, Action<string> warn);

    /// <summary>
    /// Settles the rows an interrupted run left in <c>Delivering</c> (called at every run, with none
    /// too, so that scratch files of killed runs are cleared).
    /// </summary>
    void Recover(IReadOnlyList<StoredMessage> delivering, DeliveryJournal journal, Action<string> warn);
}
