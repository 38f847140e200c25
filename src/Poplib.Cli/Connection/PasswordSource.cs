using System.Text;

namespace Poplib.Cli.Connection;

/// <summary>
/// Where the password comes from: an environment variable, a file, or a prompt without echo — never
/// the command line, where every user of the machine could read it.
/// </summary>
internal static class PasswordSource
{
    public static string Read(string? environmentVariable, string? file, CliConsole console)
    {
        if (environmentVariable is not null && file is not null)
            throw new CliException(ExitCodes.Usage, "give either --password-env or --password-file, not both");
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
