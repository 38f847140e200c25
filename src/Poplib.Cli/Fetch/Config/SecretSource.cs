using Poplib.Cli.Connection;
using Poplib.Fetch.Platform;

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
        public override string Read(CliConsole console) => PasswordSource.FromCommand(CommandLine, new ChildEnvironment(SecretVariables, []), ExitCodes.Config);
    }
}
