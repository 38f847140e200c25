using System.Text;
using System.Text.Json;

namespace Poplib.Cli.Output;

/// <summary>
/// Writes the --json documents. Field names are part of the CLI's contract (see the README), so they
/// are spelled out here rather than derived from C# names.
/// </summary>
internal static class JsonOutput
{
    public static void Write(TextWriter output, Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            body(writer);
        output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
