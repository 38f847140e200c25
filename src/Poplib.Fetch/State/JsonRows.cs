using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Poplib.Fetch.State;

/// <summary>
/// Turns a group of rows (or keys) into one JSON array for SQLite's <c>json_each</c>, so that a group is
/// one bound parameter and one statement. Row arrays are positional —
/// <c>[key, status, size, message_id, digest, destination, location, on_server]</c> — to keep them short.
/// One instance per store (not thread-safe, like the store); its buffer is reused from group to group.
/// </summary>
internal sealed class JsonRows : IDisposable
{
    // Relaxed: text goes to SQLite's JSON parser, not into HTML, so only what JSON itself requires
    // (quotes, backslashes, control characters) is escaped and UTF-8 stays UTF-8.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };
    private readonly ArrayBufferWriter<byte> _buffer = new(16 * 1024);
    private readonly Utf8JsonWriter _writer;

    public JsonRows() => _writer = new Utf8JsonWriter(_buffer, Options);

    /// <summary>The rows as <c>[[…], […]]</c>.</summary>
    public byte[] Rows(IEnumerable<StoredMessage> rows)
    {
        Utf8JsonWriter w = Start();
        foreach (StoredMessage row in rows)
        {
            w.WriteStartArray();
            w.WriteStringValue(row.Key.Value);
            w.WriteStringValue(StatusName(row.Status));
            w.WriteNumberValue(row.Size);
            WriteNullable(w, row.MessageId);
            WriteNullable(w, row.Digest);
            w.WriteStringValue(row.Destination);
            WriteNullable(w, row.Location);
            w.WriteNumberValue(row.OnServer ? 1 : 0);
            w.WriteEndArray();
        }

        return Finish();
    }

    /// <summary>The keys as <c>["…", "…"]</c>.</summary>
    public byte[] Keys(IEnumerable<MessageKey> keys)
    {
        Utf8JsonWriter w = Start();
        foreach (MessageKey key in keys)
            w.WriteStringValue(key.Value);
        return Finish();
    }

    /// <summary>The status as the state spells it (the enum's name), without boxing the enum to ask it.</summary>
    public static string StatusName(MessageStatus status) => status switch
    {
        MessageStatus.Delivering => nameof(MessageStatus.Delivering),
        MessageStatus.DeliveringHeaders => nameof(MessageStatus.DeliveringHeaders),
        MessageStatus.Delivered => nameof(MessageStatus.Delivered),
        MessageStatus.Truncated => nameof(MessageStatus.Truncated),
        MessageStatus.Deleted => nameof(MessageStatus.Deleted),
        MessageStatus.Seen => nameof(MessageStatus.Seen),
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not a message status"),
    };

    private Utf8JsonWriter Start()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _writer.WriteStartArray();
        return _writer;
    }

    private byte[] Finish()
    {
        _writer.WriteEndArray();
        _writer.Flush();
        return _buffer.WrittenSpan.ToArray();
    }

    public void Dispose() => _writer.Dispose();

    private static void WriteNullable(Utf8JsonWriter w, string? value)
    {
        if (value is null)
            w.WriteNullValue();
        else
            w.WriteStringValue(value);
    }
}
