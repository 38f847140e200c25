using Poplib.Cli.Fetch.State;

namespace Poplib.Cli.Fetch.Delivery;

/// <summary>One message on its way into a destination: its private file and the writer that fills it.</summary>
internal sealed class StagedMessage : IDisposable
{
    private DeliveredContent? _content;

    public StagedMessage(string key, long serverSize, FileStream file, MessageWriter writer, string? temporaryPath)
    {
        Key = key;
        ServerSize = serverSize;
        File = file;
        Writer = writer;
        TemporaryPath = temporaryPath;
    }

    /// <summary>The UIDL (or fingerprint) the state knows it by.</summary>
    public string Key { get; }

    /// <summary>The size LIST gave.</summary>
    public long ServerSize { get; }

    /// <summary>What the message becomes once committed: Delivered, or Truncated for a headers-only copy.</summary>
    public MessageStatus Outcome { get; set; } = MessageStatus.Delivered;

    /// <summary>The private file the writer fills.</summary>
    public FileStream File { get; }

    /// <summary>Writes the message as received; converts it to the destination's form.</summary>
    public MessageWriter Writer { get; }

    /// <summary>The private file's path, when it has one (a spool file is unlinked at once).</summary>
    public string? TemporaryPath { get; }

    /// <summary>When the mbox "From " line written for it is dated (Unix seconds); recorded so recovery can recognise it.</summary>
    public long FromLineTime { get; set; }

    /// <summary>Where the message ends up (a Maildir file name, an mbox offset and length); set by the destination.</summary>
    public string? Location { get; set; }

    /// <summary>The delivered bytes' size, digest and Message-ID, once <see cref="Complete"/> has run.</summary>
    public DeliveredContent Content => _content ?? throw new InvalidOperationException("The message is not complete yet.");

    /// <summary>Ends the message (all of it was received).</summary>
    public void Complete(bool terminate) => _content = Writer.Complete(terminate);

    public StoredMessage ToRow(string destination, MessageStatus status) =>
        new(Key, status, ServerSize, Content.MessageId, Content.Digest, destination, Location, OnServer: true);

    public void Dispose()
    {
        Writer.Dispose();
        File.Dispose();
    }
}
