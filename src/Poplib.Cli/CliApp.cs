using System.CommandLine;
using Poplib.Cli.Commands;

namespace Poplib.Cli;

/// <summary>The <c>poplib</c> command tree, runnable in-process (tests pass their own console).</summary>
internal static class CliApp
{
    public static RootCommand Build(CliConsole console)
    {
        var root = new RootCommand("poplib — POP3 from the shell. TLS is verified and passwords never come from the command line.");
        root.Add(CapaCommand.Create(console));
        root.Add(StatCommand.Create(console));
        root.Add(ListCommand.Create(console));
        root.Add(UidlCommand.Create(console));
        root.Add(RetrCommand.CreateTop(console));
        root.Add(RetrCommand.CreateRetr(console));
        root.Add(DeleCommand.Create(console));
        root.Add(ServeCommand.Create(console));
        root.Add(DemoCommand.Create(console));
        return root;
    }

    /// <summary>Lets a POP URL stand anywhere on the command line, as mail tools allow, by naming it --url.</summary>
    internal static string[] NameBareUrls(string[] args) =>
        args.SelectMany((arg, i) =>
            (arg.StartsWith("pop://", StringComparison.OrdinalIgnoreCase) || arg.StartsWith("pops://", StringComparison.OrdinalIgnoreCase))
            && (i == 0 || args[i - 1] != "--url")
                ? new[] { "--url", arg }
                : [arg]).ToArray();

    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        ParseResult result = Build(console).Parse(NameBareUrls(args));
        if (result.Errors.Count > 0 && result.Action is not System.CommandLine.Help.HelpAction)
        {
            foreach (var error in result.Errors)
                console.Error.WriteLine($"poplib: {error.Message}");
            console.Error.WriteLine("Try 'poplib --help'.");
            return ExitCodes.Usage;
        }

        var configuration = new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false };
        return await result.InvokeAsync(configuration, cancellationToken);
    }
}
