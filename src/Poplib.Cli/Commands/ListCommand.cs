using System.CommandLine;
using System.Globalization;
using Poplib.Cli.Connection;
using Poplib.Cli.Output;

namespace Poplib.Cli.Commands;

/// <summary><c>poplib list [N]</c>: message numbers and sizes.</summary>
internal static class ListCommand
{
    public static Command Create(CliConsole console)
    {
        var connection = new ConnectionOptions();
        var number = new Option<int?>("--message", "-m") { Description = "Only this message number" };
        var command = new Command("list", "List message numbers and sizes (LIST)") { number };
        connection.AddTo(command);
        CommandRunner.SetMailAction(command, connection, console, async (context, client) =>
        {
            IReadOnlyList<Pop3ListEntry> entries = context.Result.GetValue(number) is int n
                ? [await client.ListAsync(n, context.CancellationToken)]
                : await client.ListAsync(context.CancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Console.Out, json =>
                {
                    json.WriteStartObject();
                    json.WriteStartArray("messages");
                    foreach (Pop3ListEntry entry in entries)
                    {
                        json.WriteStartObject();
                        json.WriteNumber("number", entry.Number);
                        json.WriteNumber("size", entry.Size);
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                });
                return ExitCodes.Ok;
            }

            var table = new Table("#", "OCTETS");
            foreach (Pop3ListEntry entry in entries)
                table.Add(entry.Number.ToString(CultureInfo.InvariantCulture), entry.Size.ToString(CultureInfo.InvariantCulture));
            table.WriteTo(context.Console.Out);
            return ExitCodes.Ok;
        });
        return command;
    }
}
