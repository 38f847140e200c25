namespace Poplib.Fetch.Scheduling;

/// <summary>
/// The engine's run as the scheduler sees it: a <see cref="Fetcher"/>'s <see cref="FetchResult"/> or
/// <see cref="FetchException"/> as a <see cref="FetchRunOutcome"/>, so a run delegate is
/// <c>try { return FetchRunOutcomes.From(await fetcher.RunAsync(ct)); } catch (FetchException e) { return FetchRunOutcomes.From(e); }</c>.
/// </summary>
public static class FetchRunOutcomes
{
    /// <summary>A successful run: the server's CAPA LOGIN-DELAY, and what it delivered (header-only copies included).</summary>
    public static FetchRunOutcome From(FetchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return FetchRunOutcome.Success(result.LoginDelay) with
        {
            MessagesDelivered = result.Delivered + result.HeadersOnly,
            OctetsDelivered = result.DeliveredOctets,
        };
    }

    /// <summary>A failed run: its kind, its message, the server's LOGIN-DELAY, and what it delivered before it failed.</summary>
    public static FetchRunOutcome From(FetchException failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return FetchRunOutcome.Failure(failure.Failure, OneLine(failure.Message), failure.LoginDelay) with
        {
            MessagesDelivered = (failure.Result?.Delivered ?? 0) + (failure.Result?.HeadersOnly ?? 0),
            OctetsDelivered = failure.Result?.DeliveredOctets ?? 0,
        };
    }

    /// <summary>
    /// The message as one line without control characters: it may quote the server, and it goes into log lines (a terminal, the
    /// journal) and the stored status.
    /// </summary>
    private static string OneLine(string message) =>
        string.Create(message.Length, message, static (span, text) =>
        {
            for (int i = 0; i < text.Length; i++)
                span[i] = char.IsControl(text[i]) ? ' ' : text[i];
        });
}
