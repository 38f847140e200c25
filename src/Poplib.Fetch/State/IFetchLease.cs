namespace Poplib.Fetch.State;

/// <summary>
/// A lock on an account that can be lost while it is held: a lease in a store shared by several workers (PostgreSQL),
/// which expires unless its holder renews it, so that a worker that dies or is cut off does not hold the account for
/// ever. <see cref="IFetchStateStore.LockAccount"/> returns one when its store works that way; the engine then stops the
/// run as soon as <see cref="Lost"/> is cancelled, and calls <see cref="EnsureHeld"/> right before each step that cannot
/// be undone on the server (DELE, and the QUIT that commits it). Every state write of such a store is fenced by the
/// lease too (a write under a lost lease fails), so a worker that lost its lease can neither record nor delete anything.
/// </summary>
public interface IFetchLease : IDisposable
{
    /// <summary>Cancelled when the lease is lost (it expired, another worker took it, or it could not be renewed in time).</summary>
    CancellationToken Lost { get; }

    /// <summary>
    /// Throws <see cref="FetchException"/> with <see cref="FetchFailure.LeaseLost"/> unless the lease is certainly still
    /// held for a safe margin — decided by the local monotonic clock against the last renewal, so it costs no round trip
    /// and is right even after the process was frozen (a frozen process's clock keeps running).
    /// </summary>
    void EnsureHeld();
}
