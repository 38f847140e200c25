using Poplib.Fetch.Scheduling;

namespace Poplib.Fetch.Observability;

/// <summary>Options of <see cref="FetchMetrics"/>.</summary>
public sealed class FetchMetricsOptions
{
    /// <summary>
    /// Whether the account's name is a tag on every instrument. Default <see langword="true"/>. Turn it off for fleets of
    /// thousands of accounts, where one series per account is more than the metrics back end should hold (see the remarks
    /// on <see cref="FetchMetrics"/>).
    /// </summary>
    public bool IncludeAccountTag { get; init; } = true;

    /// <summary>The clock behind the last-success gauge. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init => field = OptionChecks.NotNull(value); } = TimeProvider.System;
}
