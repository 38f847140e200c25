namespace Poplib.Testing.Protocol;

/// <summary>A command as the client sent it: the verb (upper case) and its arguments.</summary>
internal sealed class Pop3Request
{
    private Pop3Request(string verb, string argument, bool isAscii)
    {
        Verb = verb;
        Argument = argument;
        Arguments = argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        IsAscii = isAscii;
    }

    public string Verb { get; }

    /// <summary>Everything after the verb and its space, as sent (PASS takes it whole: passwords may hold spaces).</summary>
    public string Argument { get; }

    public string[] Arguments { get; }

    public bool IsAscii { get; }

    /// <summary>Whether this command completes a login (what an <c>[IN-USE]</c> answer applies to).</summary>
    public bool IsLogin => Verb is "PASS" or "APOP" || (Verb == "AUTH" && Arguments.Length > 0);

    /// <summary>The verb as it may be echoed in a reply: short and printable.</summary>
    public string PrintableVerb => new([.. Verb.Take(32).Select(c => c is < ' ' or > '~' ? '?' : c)]);

    public static Pop3Request Parse(CommandLine line)
    {
        string text = line.Text;
        int space = text.IndexOf(' ', StringComparison.Ordinal);
        string verb = (space < 0 ? text : text[..space]).ToUpperInvariant();
        return new Pop3Request(verb, space < 0 ? "" : text[(space + 1)..], line.IsAscii);
    }

    public bool Is(string verb) => Verb.Equals(verb, StringComparison.OrdinalIgnoreCase);
}
