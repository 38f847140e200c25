namespace Poplib.Fetch.Scheduling;

/// <summary>The checks the options' <c>init</c> accessors share: each returns the value or throws for the property.</summary>
internal static class OptionChecks
{
    public static TimeSpan NonNegative(TimeSpan value) =>
        value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A duration cannot be negative.");

    public static T NotNull<T>(T? value)
        where T : class => value ?? throw new ArgumentNullException(nameof(value));
}
