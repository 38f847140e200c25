using System.Text;

namespace Poplib.Fetch.Configuration;

/// <summary>Enum values as the command line and the config spell them: MarkSeen is "mark-seen".</summary>
internal static class EnumNames
{
    public static string Of<T>(T value)
        where T : struct, Enum
    {
        string name = value.ToString();
        var text = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
                text.Append('-');
            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    public static IEnumerable<string> All<T>()
        where T : struct, Enum => Enum.GetValues<T>().Select(Of);

    public static bool TryParse<T>(string text, out T value)
        where T : struct, Enum
    {
        foreach (T candidate in Enum.GetValues<T>())
        {
            if (string.Equals(Of(candidate), text, StringComparison.OrdinalIgnoreCase) || string.Equals(candidate.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }
}
