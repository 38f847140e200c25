using System.CommandLine;
using Poplib.Cli.Connection;

namespace Poplib.Cli.Commands;

/// <summary>What a mail command's body gets: its parse result, the console, the JSON switch and the token.</summary>
internal sealed record CommandContext(ParseResult Result, CliConsole Console, bool Json, CancellationToken CancellationToken);

/// <summary>
/// The one place where a mail command connects, runs, quits and turns failures into exit codes, so
/// that every command behaves the same at its edges.
/// </summary>
internal static class CommandRunner
{
    public static void SetMailAction(Command command, ConnectionOptions connection, CliConsole console, Func<CommandContext, Pop3Client, Task<int>> body) =>
        SetMailAction(command, connection, console, (_, _) => true, body);

    /// <param name="command">The command to give the action to.</param>
    /// <param name="connection">Its connection options.</param>
    /// <param name="console">Where it writes.</param>
    /// <param name="needsLogin">Whether this invocation logs in.</param>
    /// <param name="body">The command's own work on the open session.</param>
    /// <param name="beforeConnecting">Runs before connecting (e.g. to ask for confirmation); a non-null result ends the command with that exit code.</param>
    /// <param name="beforeReporting">Runs on a failure, before it is reported (e.g. to show a refused certificate); the exit code stays the failure's.</param>
    public static void SetMailAction(Command command, ConnectionOptions connection, CliConsole console, Func<ParseResult, ConnectionSettings, bool> needsLogin, Func<CommandContext, Pop3Client, Task<int>> body,
        Func<ParseResult, int?>? beforeConnecting = null, Action<CommandContext, ConnectionSettings, Exception>? beforeReporting = null) =>
        command.SetAction(async (result, cancellationToken) =>
        {
            int debugLevel = connection.DebugLevel(result);
            var context = new CommandContext(result, console, result.GetValue(connection.Json), cancellationToken);
            ConnectionSettings? settings = null;
            try
            {
                settings = connection.Read(result);
                if (beforeConnecting?.Invoke(result) is int early)
                    return early;
                await using Pop3Client client = await SessionFactory.OpenAsync(settings, needsLogin(result, settings), console, cancellationToken);
                int code = await body(context, client);
                if (client.IsConnected)
                    await client.QuitAsync(cancellationToken);
                return code;
            }
            catch (Exception e)
            {
                if (settings is not null)
                    beforeReporting?.Invoke(context, settings, e);
                return ErrorReporter.Report(e, console.Error, debugLevel);
            }
        });
}
