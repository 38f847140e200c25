using System.CommandLine;
using System.Globalization;
using Poplib.Cli.Connection;
using Poplib.Cli.Output;

namespace Poplib.Cli.Commands;

/// <summary><c>poplib stat</c>: message count and total size.</summary>
internal static class StatCommand
{
    public static Command Create(CliConsole console)
    {
        var connection = new ConnectionOptions();
        var command = new Command("stat", "Show the number of messages and their total size (STAT)");
        connection.AddTo(command);
        CommandRunner.SetMailAction(command, connection, console, async (context, client) =>
        {
            Pop3MailboxStatus status = await client.StatAsync(context.CancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Console.Out, json =>
                {
                    json.WriteStartObject();
                    json.WriteNumber("count", status.Count);
                    json.WriteNumber("size", status.Size);
                    json.WriteEndObject();
                });
            }
            else
            {
                context.Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{status.Count} messages, {status.Size:N0} octets"));
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
