using System.CommandLine;
using System.Globalization;
using Poplib.Cli.Connection;
using Poplib.Cli.Output;

namespace Poplib.Cli.Commands;

/// <summary><c>poplib uidl [-m N]</c>: message numbers and unique ids.</summary>
internal static class UidlCommand
{
    public static Command Create(CliConsole console)
    {
        var connection = new ConnectionOptions();
        var number = new Option<int?>("--message", "-m") { Description = "Only this message number" };
        var command = new Command("uidl", "List message numbers and unique ids (UIDL)") { number };
        connection.AddTo(command);
        CommandRunner.SetMailAction(command, connection, console, async (context, client) =>
        {
            IReadOnlyList<Pop3UidlEntry> entries = context.Result.GetValue(number) is int n
                ? [await client.UidlAsync(n, context.CancellationToken)]
                : await client.UidlAsync(context.CancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Console.Out, json =>
                {
                    json.WriteStartObject();
                    json.WriteStartArray("messages");
                    foreach (Pop3UidlEntry entry in entries)
                    {
                        json.WriteStartObject();
                        json.WriteNumber("number", entry.Number);
                        json.WriteString("uid", entry.Uid);
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                });
                return ExitCodes.Ok;
            }

            var table = new Table("#", "UID");
            foreach (Pop3UidlEntry entry in entries)
                table.Add(entry.Number.ToString(CultureInfo.InvariantCulture), entry.Uid);
            table.WriteTo(context.Console.Out);
            return ExitCodes.Ok;
        });
        return command;
    }
}
