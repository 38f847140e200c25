using System.CommandLine;
using System.CommandLine.Help;
using Poplib.Cli.Commands;

namespace Poplib.Cli;

/// <summary>The <c>poplib</c> command tree, runnable in-process (tests pass their own console).</summary>
internal static partial class CliApp
{
    public static Command Build(CliConsole console)
    {
        // Not a RootCommand: that takes its name from the executable, which is "Poplib.Cli" (the
        // assembly) when run as a dotnet tool or with dotnet run. Usage lines must say "poplib".
        var root = new Command("poplib", "poplib — POP3 from the shell. TLS is verified and passwords never come from the command line.")
        {
            new HelpOption(),
            new VersionOption(),
        };
        root.Add(CapaCommand.Create(console));
        root.Add(StatCommand.Create(console));
        root.Add(ListingCommands.CreateList(console));
        root.Add(ListingCommands.CreateUidl(console));
        root.Add(RetrCommand.CreateTop(console));
        root.Add(RetrCommand.CreateRetr(console));
        root.Add(DeleCommand.Create(console));
        root.Add(Fetch.FetchCommand.Create(console));
        root.Add(OAuth.OAuthCommand.Create(console));
        root.Add(ServeCommand.Create(console));
        root.Add(DemoCommand.Create(console));
        return root;
    }

    // Options that take no value: a token after any other option is that option's value.
    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal)
    {
        "--ssl", "--starttls", "--no-starttls", "--insecure-skip-verify", "--allow-insecure-auth", "--verbose", "-v", "-vv", "--json", "--yes", "-y", "--help", "-h", "-?",
        "--keep", "--delete", "--quiet", "-q", "--read-only", "--show-certificate", "--device", "--browser", "--no-browser-open", "--all",
    };

    /// <summary>
    /// Lets a POP URL stand anywhere on the command line, as mail tools allow, by naming it --url —
    /// unless it is the value of the option before it, or comes after "--".
    /// </summary>
    internal static string[] NameBareUrls(string[] args)
    {
        var result = new List<string>(args.Length + 1);
        bool literal = false;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            literal |= arg == "--";
            bool isUrl = arg.StartsWith("pop://", StringComparison.OrdinalIgnoreCase) || arg.StartsWith("pops://", StringComparison.OrdinalIgnoreCase);
            bool isOptionValue = i > 0 && args[i - 1].StartsWith('-') && args[i - 1] != "--" && !Flags.Contains(args[i - 1]);
            if (isUrl && !literal && !isOptionValue)
                result.Add("--url");
            result.Add(arg);
        }

        return [.. result];
    }

    /// <summary>The parser names .NET types ("System.Nullable`1[System.Int32]"); a user wants to know what to type.</summary>
    internal static string PlainWords(string message) =>
        CannotParse().Replace(message, match => $"{match.Groups["name"].Value}: '{match.Groups["value"].Value}' is not " + match.Groups["type"].Value switch
        {
            var t when t.Contains("Int32", StringComparison.Ordinal) || t.Contains("Int64", StringComparison.Ordinal) => "a whole number",
            var t when t.Contains("Double", StringComparison.Ordinal) => "a number",
            var t => $"a valid {t[(t.LastIndexOfAny(['.', '[']) + 1)..].TrimEnd(']')}",
        });

    [System.Text.RegularExpressions.GeneratedRegex(@"Cannot parse argument '(?<value>[^']*)' for \w+ '(?<name>[^']+)' as expected type '(?<type>[^']+)'\.?", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex CannotParse();

    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        ParseResult result = Build(console).Parse(NameBareUrls(args));
        if (result.Errors.Count > 0 && result.Action is not System.CommandLine.Help.HelpAction)
        {
            foreach (var error in result.Errors)
                console.Error.WriteLine($"poplib: {PlainWords(error.Message)}");
            console.Error.WriteLine("Try 'poplib --help'.");
            return ExitCodes.Usage;
        }

        // ProcessTerminationTimeout turns Ctrl-C and SIGTERM into the actions' cancellation token (a
        // configuration built by hand has none), so a command can clean up: drop the connection
        // without QUIT, delete a partial file, stop the server.
        var configuration = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = TimeSpan.FromSeconds(5),
        };
        try
        {
            return await result.InvokeAsync(configuration, cancellationToken);
        }
        catch (Output.BrokenPipeException)
        {
            return ExitCodes.BrokenPipe; // help or version into a closed pipe
        }
    }
}
