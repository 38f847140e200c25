using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Poplib.Cli.Connection;
using Poplib.Cli.Output;

namespace Poplib.Cli.Commands;

/// <summary>
/// <c>poplib list [-m N]</c> and <c>poplib uidl [-m N]</c>: the same shape — a listing of every
/// message, or of one — with a different second column.
/// </summary>
internal static class ListingCommands
{
    public static Command CreateList(CliConsole console) => Create(
        console, "list", "List message numbers and sizes (LIST)", "OCTETS",
        (client, ct) => client.ListAsync(ct), (client, n, ct) => client.ListAsync(n, ct),
        entry => entry.Number, entry => entry.Size.ToString(CultureInfo.InvariantCulture),
        (json, entry) => json.WriteNumber("size", entry.Size));

    public static Command CreateUidl(CliConsole console) => Create(
        console, "uidl", "List message numbers and unique ids (UIDL)", "UID",
        (client, ct) => client.UidlAsync(ct), (client, n, ct) => client.UidlAsync(n, ct),
        entry => entry.Number, entry => entry.Uid,
        (json, entry) => json.WriteString("uid", entry.Uid));

    private static Command Create<T>(
        CliConsole console,
        string name,
        string description,
        string column,
        Func<Pop3Client, CancellationToken, Task<IReadOnlyList<T>>> all,
        Func<Pop3Client, int, CancellationToken, Task<T>> one,
        Func<T, int> number,
        Func<T, string> cell,
        Action<Utf8JsonWriter, T> writeField)
    {
        var connection = new ConnectionOptions();
        // "list 3" as "top 3" and "retr 3" take it; "-m 3" as before.
        Argument<int?> positional = MessageNumbers.Optional("Only this message number");
        Option<int?> only = MessageNumbers.OptionalOption("Only this message number (as the argument)");
        var command = new Command(name, description) { positional, only };
        connection.AddTo(command);
        CommandRunner.SetMailAction(command, connection, console, async (context, client) =>
        {
            if (context.Result.GetValue(positional) is int a && context.Result.GetValue(only) is int b && a != b)
                throw new CliException(ExitCodes.Usage, $"message {a} or message {b}? Give one number");
            IReadOnlyList<T> entries = (context.Result.GetValue(positional) ?? context.Result.GetValue(only)) is int n
                ? [await one(client, n, context.CancellationToken)]
                : await all(client, context.CancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Console.Out, json =>
                {
                    json.WriteStartObject();
                    json.WriteStartArray("messages");
                    foreach (T entry in entries)
                    {
                        json.WriteStartObject();
                        json.WriteNumber("number", number(entry));
                        writeField(json, entry);
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                });
                return ExitCodes.Ok;
            }

            var table = new Table("#", column);
            foreach (T entry in entries)
                table.Add(number(entry).ToString(CultureInfo.InvariantCulture), cell(entry));
            table.WriteTo(context.Console.Out);
            return ExitCodes.Ok;
        });
        return command;
    }
}
