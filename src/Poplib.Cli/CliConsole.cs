namespace Poplib.Cli;

/// <summary>
/// The streams a command talks to. The real console in production; writers and a memory stream in
/// tests, which run the real commands in-process.
/// </summary>
internal sealed class CliConsole(TextWriter output, TextWriter error, TextReader input, Func<Stream> openBinaryOutput, bool isTerminal, bool isInteractive = false)
{
    private static readonly Lazy<Stream> s_standardOutput = new(Output.StandardOutputStream.Open);

    public static CliConsole System { get; } = new(
        OperatingSystem.IsWindows() ? Console.Out : Output.StandardOutputStream.Writer(s_standardOutput.Value),
        Console.Error, Console.In, () => s_standardOutput.Value, !Console.IsOutputRedirected, !Console.IsInputRedirected);

    /// <summary>Whether standard input is a terminal a question can be asked on.</summary>
    public bool IsInteractive { get; } = isInteractive;

    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    public TextReader In { get; } = input;

    /// <summary>Whether standard output is a terminal (progress bars and colours only then).</summary>
    public bool IsTerminal { get; } = isTerminal;

    /// <summary>Standard output for raw bytes (a message exactly as stored).</summary>
    public Stream OpenBinaryOutput() => openBinaryOutput();

    /// <summary>The same console, except that a closed standard output silences <see cref="Out"/> instead of stopping the command.</summary>
    public CliConsole TolerateClosedOutput() =>
        new(new Output.ClosedPipeTolerantWriter(Out), Error, In, openBinaryOutput, IsTerminal, IsInteractive);
}
