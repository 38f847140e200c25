
namespace Poplib.Commands;

/// <summary>Builds <see cref="Pop3Capabilities"/> from the lines of a CAPA reply. Pure.</summary>
internal static class CapabilityParser
{
    private static readonly char[] Separators = [' ', '\t'];

    /// <summary>
    /// The most lines a CAPA reply may have. Real servers send a dozen or two; the cap keeps a hostile
    /// reply (injected before STLS, say) from costing more than trivial work.
    /// </summary>
    public const int MaxLines = 1000;

    /// <summary>Adds one capability line (<c>NAME param param…</c>) to <paramref name="entries"/>.</summary>
    public static void AddLine(Dictionary<string, List<string>> entries, string line)
    {
        string[] words = line.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
            return;
        // A name given twice (some servers split long SASL lists) keeps all its parameters.
        if (!entries.TryGetValue(words[0], out List<string>? parameters))
            entries[words[0].ToUpperInvariant()] = parameters = [];
        parameters.AddRange(words.AsSpan(1));
    }

    public static Pop3Capabilities Create(Dictionary<string, List<string>> entries)
    {
        var frozen = new Dictionary<string, IReadOnlyList<string>>(entries.Count, StringComparer.OrdinalIgnoreCase);
        foreach ((string name, List<string> parameters) in entries)
            frozen[name] = parameters.ToArray();
        return new Pop3Capabilities(frozen, isSupported: true);
    }

    public static Dictionary<string, List<string>> NewEntries() => new(StringComparer.OrdinalIgnoreCase);
}
