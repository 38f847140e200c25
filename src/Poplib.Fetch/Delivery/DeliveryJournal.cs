namespace Poplib.Fetch.Delivery;

/// <summary>The two phases of a delivery as state writes, for one account and destination; each call is durable when it returns.</summary>
public sealed class DeliveryJournal
{
    private readonly IFetchStateStore _state;
    private readonly AccountKey _account;
    private readonly string _destination;

    internal DeliveryJournal(IFetchStateStore state, AccountKey account, string destination)
    {
        _state = state;
        _account = account;
        _destination = destination;
    }

    /// <summary>Phase one: the group is about to be moved (or sent) into place, at the recorded locations.</summary>
    public void Prepare(IReadOnlyList<StagedMessage> group) =>
        _state.Save(_account, [.. group.Select(m => m.ToRow(_destination, m.Outcome == MessageStatus.Truncated ? MessageStatus.DeliveringHeaders : MessageStatus.Delivering))]);

    /// <summary>Phase two: the group is durably in place.</summary>
    public void Confirm(IReadOnlyList<StagedMessage> group) =>
        _state.Save(_account, [.. group.Select(m => m.ToRow(_destination, m.Outcome))]);

    /// <summary>Rows from an interrupted run turned out to be delivered.</summary>
    public void ConfirmRecovered(IReadOnlyList<StoredMessage> rows) =>
        _state.Save(_account, [.. rows.Select(r => r with { Status = r.Status == MessageStatus.DeliveringHeaders ? MessageStatus.Truncated : MessageStatus.Delivered })]);

    /// <summary>The first phase did not complete: the messages are not delivered and will be fetched again.</summary>
    public void Forget(IEnumerable<MessageKey> keys) => _state.Forget(_account, keys);
}
