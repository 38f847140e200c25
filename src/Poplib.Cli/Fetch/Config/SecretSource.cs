using System.Diagnostics;
using Poplib.Cli.Connection;

namespace Poplib.Cli.Fetch.Config;

/// <summary>
/// Where an account's password comes from in a config file: an environment variable, a file, the
/// output of a command (a password manager: <c>pass show mail/work</c>), or — only in a file no one
/// else can read — the config itself.
/// </summary>
internal abstract record SecretSource
{
    public abstract string Read(CliConsole console);

    public sealed record Environment(string Variable) : SecretSource
    {
        public override string Read(CliConsole console) => PasswordSource.Read(Variable, null, console);
    }

    public sealed record File(string Path) : SecretSource
    {
        public override string Read(CliConsole console) => PasswordSource.Read(null, Path, console);
    }

    public sealed record Inline(string Value) : SecretSource
    {
        public override string Read(CliConsole console) => Value;

        public override string ToString() => "Inline(****)";
    }

    public sealed record Prompt : SecretSource
    {
        public override string Read(CliConsole console) => PasswordSource.Read(null, null, console);
    }

    /// <param name="CommandLine">Run by /bin/sh.</param>
    /// <param name="SecretVariables">The config's password variables (complete once the config is read): the command does not see them.</param>
    public sealed record Command(string CommandLine, IReadOnlySet<string> SecretVariables) : SecretSource
    {
        private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

        public override string Read(CliConsole console)
        {
            ProcessStartInfo start = ShellCommand.StartInfo(CommandLine, new ChildEnvironment(SecretVariables, []));
            start.RedirectStandardOutput = true;
            using Process process = Process.Start(start) ?? throw new CliException(ExitCodes.Config, $"cannot start the password command: {CommandLine}");
            // The first line is the password (pass, gopass and secret-tool all print it first).
            Task<string?> firstLine = process.StandardOutput.ReadLineAsync();
            Task rest = firstLine.ContinueWith(_ => process.StandardOutput.ReadToEndAsync(), TaskScheduler.Default).Unwrap();
            if (!process.WaitForExit(Patience))
            {
                process.Kill(entireProcessTree: true);
                throw new CliException(ExitCodes.Config, $"the password command did not finish within {Patience.TotalSeconds:0} s: {CommandLine}");
            }

            rest.Wait(Patience);
            if (process.ExitCode != 0)
                throw new CliException(ExitCodes.Config, $"the password command failed with exit status {process.ExitCode}: {CommandLine}");
            string? password = firstLine.Result;
            return string.IsNullOrEmpty(password)
                ? throw new CliException(ExitCodes.Config, $"the password command printed nothing: {CommandLine}")
                : password;
        }
    }
}
