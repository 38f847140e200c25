namespace Poplib;

/// <summary>
/// A whole message (RETR) or its head (TOP) held in memory: the raw bytes as the server stored them,
/// with the transfer's dot-stuffing removed and line endings kept. Use
/// <see cref="Pop3Client.RetrTo(int, System.IO.Stream)"/> or <see cref="Pop3Client.OpenRetr(int)"/>
/// for large messages: they stream in constant memory.
/// </summary>
public sealed class Pop3Message
{
    private IReadOnlyList<ReadOnlyMemory<byte>>? _lines;

    internal Pop3Message(Pop3Response response, ReadOnlyMemory<byte> content, bool excessDiscarded = false)
    {
        Response = response;
        Content = content;
        ExcessDiscarded = excessDiscarded;
    }

    /// <summary>The server's <c>+OK</c> line.</summary>
    public Pop3Response Response { get; }

    /// <summary>The message bytes, dot-unstuffed, line endings as received (normally CRLF).</summary>
    public ReadOnlyMemory<byte> Content { get; }

    /// <summary>
    /// For TOP: whether the server sent more than the header and the lines asked for (GNU mailutils
    /// adds an empty line, some servers send the whole message). <see cref="Content"/> never holds
    /// more than was asked; the rest was read and dropped. Always false for RETR.
    /// </summary>
    public bool ExcessDiscarded { get; }

    /// <summary>The size of <see cref="Content"/> in octets (poplib's <c>octets</c>).</summary>
    public long Octets => Content.Length;

    /// <summary>
    /// The message's lines without their line endings (poplib's list of lines). They are found in
    /// <see cref="Content"/> as they are asked for, not stored: counting, enumerating and reading them
    /// in order cost no memory.
    /// </summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Lines => _lines ??= new MessageLines(Content);

    /// <summary>Copies <see cref="Content"/> into a new array.</summary>
    public byte[] ToArray() => Content.ToArray();
}
