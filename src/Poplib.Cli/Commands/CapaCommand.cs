using System.CommandLine;
using Poplib.Cli.Connection;
using Poplib.Cli.Output;

namespace Poplib.Cli.Commands;

/// <summary><c>poplib capa</c>: the server's capabilities (after STLS if asked; before login unless --user is given).</summary>
internal static class CapaCommand
{
    public static Command Create(CliConsole console)
    {
        var connection = new ConnectionOptions();
        var command = new Command("capa", "Show the server's capabilities (CAPA); with --user, as they are after login");
        connection.AddTo(command);
        // Logging in is optional here: capabilities are most telling before login.
        CommandRunner.SetMailAction(command, connection, console, settings => settings.User is not null, (context, client) =>
        {
            Write(context, client);
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static void Write(CommandContext context, Pop3Client client)
    {
        Pop3Capabilities caps = client.Capabilities;
        if (context.Json)
        {
            JsonOutput.Write(context.Console.Out, json =>
            {
                json.WriteStartObject();
                json.WriteString("greeting", client.Welcome);
                json.WriteBoolean("tls", client.IsEncrypted);
                json.WriteBoolean("authenticated", client.IsAuthenticated);
                json.WriteBoolean("supported", caps.IsSupported);
                json.WriteStartObject("capabilities");
                foreach ((string name, IReadOnlyList<string> parameters) in caps.OrderBy(c => c.Key, StringComparer.Ordinal))
                {
                    json.WriteStartArray(name);
                    foreach (string parameter in parameters)
                        json.WriteStringValue(parameter);
                    json.WriteEndArray();
                }

                json.WriteEndObject();
                json.WriteEndObject();
            });
            return;
        }

        TextWriter output = context.Console.Out;
        output.WriteLine($"Greeting: {TerminalText.Safe(client.Welcome)}");
        output.WriteLine($"TLS: {(client.IsEncrypted ? client.SslProtocol.ToString() : "no")}");
        if (!caps.IsSupported)
        {
            output.WriteLine("The server does not support CAPA.");
            return;
        }

        var table = new Table("CAPABILITY", "PARAMETERS");
        foreach ((string name, IReadOnlyList<string> parameters) in caps.OrderBy(c => c.Key, StringComparer.Ordinal))
            table.Add(name, string.Join(' ', parameters));
        table.WriteTo(output);
    }
}
