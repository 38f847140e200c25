namespace Poplib.Fetch;

/// <summary>Timeouts of the LMTP destination (<see cref="FetchDestination.Lmtp"/>). Every wait is bounded.</summary>
public sealed record LmtpDeliveryOptions
{
    /// <summary>Connecting and the server's greeting. Default 30 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Each write, and each reply to a command (LHLO, MAIL, RCPT, DATA). Default 60 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Each per-recipient reply after the message's final dot (the server delivers before it answers). Default 10 minutes.</summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The name given in LHLO. Default <c>localhost</c>.</summary>
    public string LocalName { get; init; } = "localhost";

    /// <summary>Whether to pipeline MAIL, RCPT and DATA when the server offers PIPELINING (RFC 2920). Default true.</summary>
    public bool UsePipelining { get; init; } = true;

    internal Delivery.Lmtp.LmtpClientOptions ToClientOptions()
    {
        var options = new Delivery.Lmtp.LmtpClientOptions
        {
            ConnectTimeout = ConnectTimeout,
            Timeout = Timeout,
            DataTimeout = DataTimeout,
            LocalName = LocalName,
            UsePipelining = UsePipelining,
        };
        options.Validate();
        return options;
    }
}
