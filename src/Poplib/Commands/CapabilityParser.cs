
namespace Poplib.Commands;

/// <summary>Builds <see cref="Pop3Capabilities"/> from the lines of a CAPA reply. Pure.</summary>
internal static class CapabilityParser
{
    private static readonly char[] Separators = [' ', '\t'];

    /// <summary>Adds one capability line (<c>NAME param param…</c>) to <paramref name="entries"/>.</summary>
    public static void AddLine(Dictionary<string, IReadOnlyList<string>> entries, string line)
    {
        string[] words = line.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
            return;
        string name = words[0].ToUpperInvariant();
        string[] parameters = words[1..];
        // A name given twice (some servers split long SASL lists) keeps all its parameters.
        entries[name] = entries.TryGetValue(name, out var earlier) ? [.. earlier, .. parameters] : parameters;
    }

    public static Pop3Capabilities Create(Dictionary<string, IReadOnlyList<string>> entries) => new(entries, isSupported: true);

    public static Dictionary<string, IReadOnlyList<string>> NewEntries() => new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Decodes a capability line; capability names and parameters are ASCII, anything else is kept leniently.</summary>
    public static string Decode(ReadOnlySpan<byte> line) => ReplyParser.Decode(line, utf8Mode: false);

}
