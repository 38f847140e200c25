using System.CommandLine;
using Poplib.Cli.Connection;
using Poplib.Cli.Output;

namespace Poplib.Cli.Commands;

/// <summary><c>poplib dele N…</c>: marks messages for deletion and commits with QUIT, after confirmation.</summary>
internal static class DeleCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("dele", "Delete messages (DELE, committed by QUIT)");
        var connection = new ConnectionOptions();
        connection.AddTo(command);
        Argument<int[]> numbers = MessageNumbers.Many("The message numbers to delete (from 1)");
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation" };
        command.Add(numbers);
        command.Add(yes);
        // Asked before connecting: a question left open must not hold the server's mailbox lock.
        int? AskFirst(ParseResult result)
        {
            if (result.GetValue(yes) || Confirm(console, Chosen(result)))
                return null;
            console.Error.WriteLine("poplib: nothing deleted.");
            return ExitCodes.Ok;
        }

        int[] Chosen(ParseResult result) => result.GetValue(numbers)!.Distinct().Order().ToArray();

        CommandRunner.SetMailAction(command, connection, console, (_, _) => true, async (context, client) =>
        {
            int[] chosen = Chosen(context.Result);

            foreach (int n in chosen)
            {
                try
                {
                    await client.DeleAsync(n, context.CancellationToken);
                }
                catch (Pop3CommandException refused)
                {
                    // No QUIT follows: the server forgets the marks of this session.
                    throw new CliException(ExitCodes.ServerError, $"the server refused to delete message {n}: {refused.ResponseText}; nothing was deleted", refused);
                }
            }

            // Deletions happen only at QUIT; say so only once the server has committed them.
            await client.QuitAsync(context.CancellationToken);

            if (context.Json)
            {
                JsonOutput.Write(context.Console.Out, json =>
                {
                    json.WriteStartObject();
                    json.WriteStartArray("deleted");
                    foreach (int n in chosen)
                        json.WriteNumberValue(n);
                    json.WriteEndArray();
                    json.WriteEndObject();
                });
            }
            else
            {
                context.Console.Out.WriteLine($"Deleted {chosen.Length} message(s): {string.Join(' ', chosen)}");
            }

            return ExitCodes.Ok;
        }, AskFirst);
        return command;
    }

    private static bool Confirm(CliConsole console, int[] numbers)
    {
        if (!console.IsInteractive)
            throw new CliException(ExitCodes.Usage, "refusing to delete without confirmation: no terminal to ask on; add --yes");
        console.Error.Write($"Delete {numbers.Length} message(s) ({string.Join(' ', numbers)}) from the server? [y/N] ");
        string? answer = console.In.ReadLine();
        return answer is not null && answer.Trim().Equals("y", StringComparison.OrdinalIgnoreCase);
    }
}
