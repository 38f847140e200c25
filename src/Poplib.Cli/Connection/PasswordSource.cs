using System.Text;
using Poplib.Fetch.Platform;

namespace Poplib.Cli.Connection;

/// <summary>
/// Where the password comes from: an environment variable, a file, or a prompt without echo — never
/// the command line, where every user of the machine could read it.
/// </summary>
internal static class PasswordSource
{
    public static string Read(string? environmentVariable, string? file, CliConsole console) => Read(environmentVariable, file, command: null, console);

    /// <summary>At most one of --password-env, --password-file and --password-command.</summary>
    public static void RequireOne(string? environmentVariable, string? file, string? command)
    {
        if ((environmentVariable is null ? 0 : 1) + (file is null ? 0 : 1) + (command is null ? 0 : 1) > 1)
            throw new CliException(ExitCodes.Usage, "give one of --password-env, --password-file and --password-command");
    }

    /// <summary>The password from the one source given, or a prompt when none is.</summary>
    public static string Read(string? environmentVariable, string? file, string? command, CliConsole console)
    {
        RequireOne(environmentVariable, file, command);
        if (command is not null)
            return FromCommand(command, ChildEnvironment.None, ExitCodes.Usage);
        if (environmentVariable is not null)
        {
            return Environment.GetEnvironmentVariable(environmentVariable) is { Length: > 0 } value
                ? value
                : throw new CliException(ExitCodes.Usage, $"the environment variable {environmentVariable} is not set or empty");
        }

        if (file is not null)
        {
            try
            {
                // The first line, without its line ending: editors add a final newline.
                string content = File.ReadAllText(file);
                int end = content.IndexOfAny(['\r', '\n']);
                string password = end < 0 ? content : content[..end];
                return password.Length > 0 ? password : throw new CliException(ExitCodes.Usage, $"the password file {file} is empty");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException(ExitCodes.LocalIo, $"cannot read the password file: {e.Message}", e);
            }
        }

        if (!console.IsInteractive)
            throw new CliException(ExitCodes.Usage, "no password: use --password-env VAR or --password-file FILE (there is no terminal to ask on)");
        return Prompt(console.Error);
    }

    /// <summary>
    /// The first line a command prints (<c>pass show mail/work</c>, <c>secret-tool lookup …</c>: a password
    /// manager's way of handing over a secret), the command run by /bin/sh without the variables in
    /// <paramref name="hidden"/>. Failures are reported with <paramref name="exitCode"/>.
    /// </summary>
    public static string FromCommand(string commandLine, ChildEnvironment hidden, int exitCode)
    {
        string output;
        try
        {
            output = SecretCommand.RunAsync(commandLine, hidden, SecretCommand.DefaultTimeout, "the password command", async: false, CancellationToken.None)
                .AsTask().GetAwaiter().GetResult();
        }
        catch (SecretCommandException e)
        {
            throw new CliException(exitCode, e.Message, e);
        }

        // The first line is the password (pass, gopass and secret-tool all print it first).
        int end = output.IndexOfAny(['\r', '\n']);
        string password = end < 0 ? output : output[..end];
        return password.Length > 0 ? password : throw new CliException(exitCode, $"the password command printed nothing: {commandLine}");
    }

    private static string Prompt(TextWriter stderr)
    {
        stderr.Write("Password: ");
        var password = new StringBuilder();
        while (true)
        {
            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
                break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (password.Length > 0)
                    password.Length--;
            }
            else if (!char.IsControl(key.KeyChar))
            {
                password.Append(key.KeyChar);
            }
        }

        stderr.WriteLine();
        return password.ToString();
    }
}
