using System.Text;
using Poplib.Cli;

namespace Poplib.Tests.Cli;

/// <summary>Runs the real <c>poplib</c> command tree in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public sealed record Outcome(int ExitCode, string Out, string Error, byte[] Binary);

    public static Task<Outcome> RunAsync(params string[] args) => RunAsync(CancellationToken.None, args);

    public static async Task<Outcome> RunAsync(CancellationToken cancellationToken, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var binary = new MemoryStream();
        var console = new CliConsole(output, error, new StringReader(""), () => binary, isTerminal: false);
        int code = await CliApp.RunAsync(args, console, cancellationToken);
        return new Outcome(code, output.ToString(), error.ToString(), binary.ToArray());
    }
}
