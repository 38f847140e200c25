using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Poplib.Cli.Commands;

/// <summary>
/// Message numbers (and TOP's line counts) on the command line, checked while parsing: a number
/// that cannot be one (0, -1, "abc") is a usage error before anything connects.
/// </summary>
internal static class MessageNumbers
{
    public static Argument<int> One(string name = "number", string description = "The message number (from 1)") =>
        new(name) { Description = description, CustomParser = r => Parse(r, r.Tokens.Single().Value, minimum: 1) };

    public static Argument<int?> Optional(string description) =>
        new("number") { Description = description, Arity = ArgumentArity.ZeroOrOne, CustomParser = r => r.Tokens.Count == 0 ? null : Parse(r, r.Tokens[0].Value, minimum: 1) };

    public static Argument<int[]> Many(string description) =>
        new("numbers") { Description = description, Arity = ArgumentArity.OneOrMore, CustomParser = r => [.. r.Tokens.Select(t => Parse(r, t.Value, minimum: 1))] };

    public static Argument<int> LineCount() =>
        new("lines") { Description = "How many body lines after the header (0 or more)", CustomParser = r => Parse(r, r.Tokens.Single().Value, minimum: 0) };

    public static Option<int?> OptionalOption(string description) =>
        new("--message", "-m") { Description = description, CustomParser = r => Parse(r, r.Tokens.Single().Value, minimum: 1) };

    private static int Parse(SymbolResult result, string token, int minimum)
    {
        if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= minimum)
            return value;
        result.AddError(minimum == 0
            ? $"'{token}' is not a line count: a whole number, 0 or more"
            : $"'{token}' is not a message number: messages are numbered from 1");
        return 0;
    }
}
