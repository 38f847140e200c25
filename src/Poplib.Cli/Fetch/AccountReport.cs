using Poplib.Fetch;

namespace Poplib.Cli.Fetch;

/// <summary>How one account's run went, for the command line: the summary table's row and the JSON output's object.</summary>
/// <param name="Name">The account's name.</param>
/// <param name="Result">What the run did (also for a failed run, up to its failure); null if it never started.</param>
/// <param name="ExitCode">0 when the account went well; else the exit code its failure maps to.</param>
/// <param name="Error">The failure, worded for the command line and safe for a terminal; null when it went well.</param>
/// <param name="Interrupted">Stopped by Ctrl-C (or SIGTERM).</param>
internal sealed record AccountReport(string Name, FetchResult? Result, int ExitCode, string? Error, bool Interrupted)
{
    public int OnServer => Result?.OnServer ?? 0;

    public int Delivered => Result?.Delivered ?? 0;

    public long DeliveredBytes => Result?.DeliveredOctets ?? 0;

    public int HeadersOnly => Result?.HeadersOnly ?? 0;

    public int Deleted => Result?.Deleted ?? 0;

    public int SkippedOversize => Result?.SkippedOversize ?? 0;

    public int Duplicates => Result?.Duplicates ?? 0;

    public int Refused => Result?.Refused ?? 0;

    public int Rejected => Result?.Rejected ?? 0;

    public TimeSpan Elapsed => Result?.Elapsed ?? TimeSpan.Zero;

    /// <summary>The warnings, worded for the command line and safe for a terminal.</summary>
    public IReadOnlyList<string> Warnings => Result is null ? [] : [.. Result.Warnings.Select(FetchWording.Warning)];

    /// <summary>The live display's last state of the account.</summary>
    public FetchProgress Progress => new(Name, OnServer, Result?.ToFetch ?? 0, Result?.ToFetchOctets ?? 0, Delivered, DeliveredBytes, HeadersOnly);

    public string Status => Interrupted ? "interrupted" : ExitCode == 0 ? (Refused > 0 ? "ok (some refused)" : "ok") : "failed";
}
