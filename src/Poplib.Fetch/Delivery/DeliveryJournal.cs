namespace Poplib.Fetch.Delivery;

/// <summary>The two phases of a delivery as state writes, for one account and destination; each call is durable when it returns.</summary>
public sealed class DeliveryJournal
{
    private readonly IFetchStateStore _state;
    private readonly AccountKey _account;
    private readonly string _destination;
    private readonly IFetchLease? _lease;

    internal DeliveryJournal(IFetchStateStore state, AccountKey account, string destination, IFetchLease? lease = null)
    {
        _state = state;
        _account = account;
        _destination = destination;
        _lease = lease;
    }

    /// <summary>
    /// Throws <see cref="FetchException"/> (<see cref="FetchFailure.LeaseLost"/>) if the run no longer certainly holds
    /// the account (a store shared by several workers): call it right after <see cref="Prepare"/> and before the step
    /// that makes the group visible in the destination, so that a worker frozen in between cannot deliver what the
    /// account's next holder has already settled. Does nothing for a store without leases.
    /// </summary>
    public void EnsureHeld() => _lease?.EnsureHeld();

    /// <summary>Phase one: the group is about to be moved (or sent) into place, at the recorded locations.</summary>
    public void Prepare(IReadOnlyList<StagedMessage> group) =>
        _state.Save(_account, [.. group.Select(m => m.ToRow(_destination, m.Outcome == MessageStatus.Truncated ? MessageStatus.DeliveringHeaders : MessageStatus.Delivering))]);

    /// <summary>Phase two: the group is durably in place.</summary>
    public void Confirm(IReadOnlyList<StagedMessage> group)
    {
        // Only the status moves: phase one wrote the rows whole (size, digest, location), so a status
        // update is all that is left — cheaper than rewriting every row and its index entries. A group
        // has one outcome (whole or headers-only), so this is one transaction.
        foreach (MessageStatus outcome in group.Select(m => m.Outcome).Distinct())
            _state.SetStatus(_account, [.. group.Where(m => m.Outcome == outcome).Select(m => m.Key)], outcome);
    }

    /// <summary>Rows from an interrupted run turned out to be delivered.</summary>
    public void ConfirmRecovered(IReadOnlyList<StoredMessage> rows) =>
        _state.Save(_account, [.. rows.Select(r => r with { Status = r.Status == MessageStatus.DeliveringHeaders ? MessageStatus.Truncated : MessageStatus.Delivered })]);

    /// <summary>The first phase did not complete: the messages are not delivered and will be fetched again.</summary>
    public void Forget(IEnumerable<MessageKey> keys) => _state.Forget(_account, keys);

    /// <summary>
    /// Delivers a group one message at a time, for destinations that make each message durable
    /// themselves (a delivery command, an LMTP server, an application's sink): each is prepared,
    /// handed to <paramref name="deliver"/>, and confirmed when it returns null. A non-null return is
    /// a refusal — the message is forgotten (it stays on the server and is offered again next run), the
    /// text is passed to <paramref name="warn"/>, and the others go on. An exception forgets the
    /// message in hand and ends the group (those confirmed before stay delivered).
    /// </summary>
    /// <returns>The messages delivered.</returns>
    public async ValueTask<IReadOnlyList<StagedMessage>> DeliverEachAsync(IReadOnlyList<StagedMessage> group, Func<StagedMessage, CancellationToken, ValueTask<string?>> deliver,
        Action<string> warn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(deliver);
        ArgumentNullException.ThrowIfNull(warn);
        var delivered = new List<StagedMessage>(group.Count);
        foreach (StagedMessage message in group)
        {
            // Recorded as on its way first: if the process dies while the destination works, the
            // next run's recovery decides, and the message is never recorded unseen.
            Prepare([message]);
            string? refusal;
            try
            {
                EnsureHeld();
                refusal = await deliver(message, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                Forget([message.Key]);
                throw;
            }

            if (refusal is not null)
            {
                Forget([message.Key]);
                warn(refusal);
                continue;
            }

            Confirm([message]);
            delivered.Add(message);
        }

        return delivered;
    }
}
