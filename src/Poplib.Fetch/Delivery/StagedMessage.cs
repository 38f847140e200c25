namespace Poplib.Fetch.Delivery;

/// <summary>One message on its way into a destination: its private file and the writer that fills it.</summary>
public sealed class StagedMessage : IDisposable
{
    private DeliveredContent? _content;

    /// <summary>A staged message written into <paramref name="file"/> in the local form: LF line ends (the server sends CRLF).</summary>
    /// <param name="key">The message's key.</param>
    /// <param name="serverSize">Its size as LIST gave it.</param>
    /// <param name="file">The private file (or spool) it is written to; readable and seekable if the destination reads it back.</param>
    /// <param name="temporaryPath">The file's path when it has a name (removed by the engine if the message is dropped), or null for an unnamed spool.</param>
    public StagedMessage(MessageKey key, long serverSize, FileStream file, string? temporaryPath)
        : this(key, serverSize, file, new MessageWriter(file, quoteFrom: false), temporaryPath, terminate: false)
    {
    }

    internal StagedMessage(MessageKey key, long serverSize, FileStream file, MessageWriter writer, string? temporaryPath, bool terminate = false)
    {
        Key = key;
        ServerSize = serverSize;
        File = file;
        Writer = writer;
        TemporaryPath = temporaryPath;
        Terminate = terminate;
    }

    /// <summary>The UIDL (or fingerprint) the state knows it by.</summary>
    public MessageKey Key { get; }

    /// <summary>The size LIST gave.</summary>
    public long ServerSize { get; }

    /// <summary>What the message becomes once committed: Delivered, or Truncated for a headers-only copy.</summary>
    public MessageStatus Outcome { get; internal set; } = MessageStatus.Delivered;

    /// <summary>The private file the writer fills.</summary>
    public FileStream File { get; }

    /// <summary>Writes the message as received; converts it to the destination's form.</summary>
    internal MessageWriter Writer { get; }

    /// <summary>Whether the destination's form ends each message with a separator (mbox's blank line).</summary>
    internal bool Terminate { get; }

    /// <summary>The private file's path, when it has one (a spool file is unlinked at once).</summary>
    public string? TemporaryPath { get; }

    /// <summary>The destination has moved the private file to its final name: nothing is left to remove when the message is discarded.</summary>
    internal bool InPlace { get; set; }

    /// <summary>When the mbox "From " line written for it is dated (Unix seconds); recorded so recovery can recognise it.</summary>
    internal long FromLineTime { get; set; }

    /// <summary>Where the message ends up (a Maildir file name, an mbox offset and length); set by the destination before <see cref="DeliveryJournal.Prepare"/>.</summary>
    public string? Location { get; set; }

    /// <summary>The delivered bytes' size, digest and Message-ID, once the message is complete.</summary>
    public DeliveredContent Content => _content ?? throw new InvalidOperationException("The message is not complete yet.");

    /// <summary>Ends the message (all of it was received).</summary>
    internal void Complete() => _content = Writer.Complete(Terminate);

    internal StoredMessage ToRow(string destination, MessageStatus status) =>
        new(Key, status, ServerSize, Content.MessageId, Content.Digest, destination, Location, OnServer: true);

    /// <summary>Closes the writer and the file.</summary>
    public void Dispose()
    {
        Writer.Dispose();
        File.Dispose();
    }
}
