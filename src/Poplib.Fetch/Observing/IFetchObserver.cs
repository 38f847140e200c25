namespace Poplib.Fetch;

/// <summary>Where an account's run stands: an immutable snapshot, taken when an event is raised.</summary>
/// <param name="Account">The account's name.</param>
/// <param name="OnServer">Messages on the server at login.</param>
/// <param name="ToFetch">Messages this run sets out to download.</param>
/// <param name="ToFetchOctets">Their octets.</param>
/// <param name="Delivered">Messages delivered whole so far.</param>
/// <param name="DeliveredOctets">Their octets.</param>
/// <param name="HeadersOnly">Header-only copies delivered so far.</param>
public sealed record FetchProgress(string Account, int OnServer, int ToFetch, long ToFetchOctets, int Delivered, long DeliveredOctets, int HeadersOnly);

/// <summary>
/// Receives what runs do as they go. Called from the run's own flow (several accounts' runs may call
/// one observer at once: implementations must be thread-safe, and quick — the run waits for them).
/// Every argument is immutable. An observer that throws does not stop the run; the exception is
/// logged and ignored.
/// </summary>
public interface IFetchObserver
{
    /// <summary>Connected and listed: the totals to fetch are known.</summary>
    void RunStarted(FetchProgress progress) { }

    /// <summary>A message is durably delivered and recorded.</summary>
    void MessageDelivered(FetchProgress progress, MessageKey key, long octets) { }

    /// <summary>Something the run could not do, but goes on without.</summary>
    void Warning(FetchProgress progress, FetchWarning warning) { }

    /// <summary>The run is over: <paramref name="result"/> is what it did; <paramref name="failure"/> is why it failed, or null.</summary>
    void RunFinished(FetchResult result, FetchException? failure) { }
}
