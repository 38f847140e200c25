namespace Poplib.Testing.OAuth;

/// <summary>
/// How an <see cref="OAuth2TestServer"/> keeps time and what it tolerates. Copied when the server starts;
/// what a test changes while it runs (lifetimes, rotation, the signed-in user, faults) is on the server.
/// </summary>
public sealed class OAuth2TestServerOptions
{
    /// <summary>The clock for every expiry and the device flow's polling interval. Default <see cref="TimeProvider.System"/>; a fake one makes expiry a test step.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>How long an authorization code may wait for its exchange (RFC 6749 section 4.1.2 says at most 10 minutes). Default 10 minutes.</summary>
    public TimeSpan AuthorizationCodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a device code may be polled before <c>expired_token</c> (RFC 8628 section 3.2). Default 15 minutes, as Microsoft's.</summary>
    public TimeSpan DeviceCodeLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The polling interval a device authorization announces; polled sooner, the server answers <c>slow_down</c> and adds 5 seconds. Default 5 seconds.</summary>
    public TimeSpan DevicePollingInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest request line plus headers the server reads (431 above it). Default 16 KiB.</summary>
    public int MaxRequestHeadBytes { get; set; } = 16 * 1024;

    /// <summary>The longest request body the server reads (413 above it). Default 64 KiB.</summary>
    public int MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>How long the server waits for a whole request before it answers 408 and closes. Default 30 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most connections served at a time; one more is answered 503 and closed unread. Default 100.</summary>
    public int MaxConnections { get; set; } = 100;

    internal OAuth2TestServerOptions Validate()
    {
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ThrowIfNotPositive(AuthorizationCodeLifetime, nameof(AuthorizationCodeLifetime));
        ThrowIfNotPositive(DeviceCodeLifetime, nameof(DeviceCodeLifetime));
        ThrowIfNotPositive(DevicePollingInterval, nameof(DevicePollingInterval));
        ThrowIfNotPositive(RequestTimeout, nameof(RequestTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRequestHeadBytes, 1024, nameof(MaxRequestHeadBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRequestBodyBytes, nameof(MaxRequestBodyBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConnections, nameof(MaxConnections));
        return (OAuth2TestServerOptions)MemberwiseClone();
    }

    internal static void ThrowIfNotPositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(name, value, "Must be positive and at most int.MaxValue milliseconds.");
    }
}
