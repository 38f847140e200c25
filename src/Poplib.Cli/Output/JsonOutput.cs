using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Poplib.Cli.Output;

/// <summary>
/// Writes the --json documents. Field names are part of the CLI's contract (see docs/cli.md), so they
/// are spelled out here rather than derived from C# names.
/// </summary>
internal static class JsonOutput
{
    public static void Write(TextWriter output, Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        // Relaxed, so that "+OK" and "<id@host>" read as they are; the relaxed encoder still escapes
        // C0 controls, and what it lets through that a terminal would obey is escaped below.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            body(writer);
        output.WriteLine(EscapeInvisible(Encoding.UTF8.GetString(buffer.ToArray())));
    }

    /// <summary>
    /// C1 controls, bidi and other format characters, line and paragraph separators as \uXXXX: outside
    /// strings a JSON document has none, so this changes no value, only how it looks on a terminal.
    /// </summary>
    private static string EscapeInvisible(string json)
    {
        StringBuilder? escaped = null;
        for (int i = 0; i < json.Length; i++)
        {
            char c = json[i];
            bool invisible = c is >= '\u007f' and <= '\u009f'
                || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
            if (invisible)
                (escaped ??= new StringBuilder(json, 0, i, json.Length + 16)).Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            else
                escaped?.Append(c);
        }

        return escaped?.ToString() ?? json;
    }
}
