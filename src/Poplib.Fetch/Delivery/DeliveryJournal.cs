using Poplib.Cli.Fetch.State;

namespace Poplib.Cli.Fetch.Delivery;

/// <summary>The two phases of a delivery as state writes, for one account and destination.</summary>
internal sealed class DeliveryJournal(FetchState state, string account, string destination)
{
    /// <summary>Phase one: the group is about to be moved into place at the recorded locations.</summary>
    public void Prepare(IReadOnlyList<StagedMessage> group) =>
        state.Save(account, [.. group.Select(m => m.ToRow(destination, m.Outcome == MessageStatus.Truncated ? MessageStatus.DeliveringHeaders : MessageStatus.Delivering))]);

    /// <summary>Phase two: the group is durably in place.</summary>
    public void Confirm(IReadOnlyList<StagedMessage> group) =>
        state.Save(account, [.. group.Select(m => m.ToRow(destination, m.Outcome))]);

    /// <summary>A row from an interrupted run turned out to be delivered.</summary>
    public void ConfirmRecovered(IReadOnlyList<StoredMessage> rows) =>
        state.Save(account, [.. rows.Select(r => r with { Status = r.Status == MessageStatus.DeliveringHeaders ? MessageStatus.Truncated : MessageStatus.Delivered })]);

    /// <summary>The first phase did not complete: the messages are not delivered and will be fetched again.</summary>
    public void Forget(IEnumerable<string> keys) => state.Forget(account, keys);
}
