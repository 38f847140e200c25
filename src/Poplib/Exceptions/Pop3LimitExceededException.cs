namespace Poplib;

/// <summary>
/// A reply went past one of the limits in <see cref="Pop3ClientOptions"/> (line length, list entries,
/// in-memory message size). Like every <see cref="Pop3ProtocolException"/>, the connection is closed.
/// </summary>
public sealed class Pop3LimitExceededException : Pop3ProtocolException
{
    /// <summary>Creates the exception for the named limit and its value.</summary>
    public Pop3LimitExceededException(string limitName, long limit, string message)
        : base($"{message} (limit {nameof(Pop3ClientOptions)}.{limitName} = {limit}).")
    {
        LimitName = limitName;
        Limit = limit;
    }

    /// <summary>The name of the <see cref="Pop3ClientOptions"/> property that holds the limit.</summary>
    public string LimitName { get; }

    /// <summary>The limit's value when it was exceeded.</summary>
    public long Limit { get; }
}
