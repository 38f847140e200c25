using System.CommandLine;
using Poplib.Cli.Connection;
using Poplib.Cli.Output;

namespace Poplib.Cli.Commands;

/// <summary>
/// <c>poplib retr N [-o FILE]</c> and <c>poplib top N LINES [-o FILE]</c>: the message's raw bytes,
/// exactly as stored, to standard output or a file.
/// </summary>
internal static class RetrCommand
{
    public static Command CreateRetr(CliConsole console)
    {
        var command = new Command("retr", "Write a message's raw bytes to standard output or a file (RETR)");
        var connection = new ConnectionOptions();
        connection.AddTo(command);
        Argument<int> number = MessageNumbers.One();
        command.Add(number);
        return Configure(command, connection, console, number, lines: null);
    }

    public static Command CreateTop(CliConsole console)
    {
        var command = new Command("top", "Write a message's header and first body lines (TOP)");
        var connection = new ConnectionOptions();
        connection.AddTo(command);
        Argument<int> number = MessageNumbers.One();
        Argument<int> lines = MessageNumbers.LineCount();
        command.Add(number);
        command.Add(lines);
        return Configure(command, connection, console, number, lines);
    }

    private static Command Configure(Command command, ConnectionOptions connection, CliConsole console, Argument<int> number, Argument<int>? lines)
    {
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Write to this file instead of standard output (replaced atomically)" };
        command.Add(output);
        // The message itself goes to standard output: there is no room there for a JSON document.
        int? CheckFirst(ParseResult result) => result.GetValue(connection.Json) && result.GetValue(output) is null
            ? throw new CliException(ExitCodes.Usage, $"{command.Name} --json needs -o FILE: without it the message itself goes to standard output")
            : null;

        CommandRunner.SetMailAction(command, connection, console, (_, _) => true, async (context, client) =>
        {
            int n = context.Result.GetValue(number);
            int? count = lines is null ? null : context.Result.GetValue(lines);
            FileInfo? file = context.Result.GetValue(output);
            long octets = file is null
                ? await CopyAsync(client, n, count, context.Console.OpenBinaryOutput(), context.CancellationToken)
                : await CopyToFileAsync(client, n, count, file, context.CancellationToken);

            if (context.Json && file is not null)
            {
                JsonOutput.Write(context.Console.Out, json =>
                {
                    json.WriteStartObject();
                    json.WriteNumber("number", n);
                    json.WriteNumber("octets", octets);
                    json.WriteString("file", file.FullName);
                    json.WriteEndObject();
                });
            }

            return ExitCodes.Ok;
        }, CheckFirst);
        return command;
    }

    private static async Task<long> CopyAsync(Pop3Client client, int number, int? lines, Stream destination, CancellationToken cancellationToken)
    {
        long octets = lines is int count
            ? await client.TopToAsync(number, count, destination, cancellationToken)
            : await client.RetrToAsync(number, destination, cancellationToken);
        await destination.FlushAsync(cancellationToken);
        return octets;
    }

    private static string Reason(Exception e, string temporary, string target) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        DirectoryNotFoundException => $"the folder {Path.GetDirectoryName(target)} does not exist",
        _ => e.Message.Replace(temporary, target, StringComparison.Ordinal),
    };

    // Written beside the target and renamed over it: a failed or interrupted transfer never leaves a
    // truncated message under the requested name.
    private static async Task<long> CopyToFileAsync(Pop3Client client, int number, int? lines, FileInfo file, CancellationToken cancellationToken)
    {
        string temporary = Path.Combine(file.DirectoryName ?? ".", $".{file.Name}.{Environment.ProcessId}.part");
        try
        {
            long octets;
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            {
                octets = await CopyAsync(client, number, lines, stream, cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, file.FullName, overwrite: true);
            return octets;
        }
        catch (Exception e)
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
            // A file error leaves the session connected (a broken connection does not): the error names
            // the file the user asked for, not our temporary name beside it.
            if (e is IOException or UnauthorizedAccessException && client.IsConnected)
                throw new CliException(ExitCodes.LocalIo, $"cannot write {file.FullName}: {Reason(e, temporary, file.FullName)}", e);
            throw;
        }
    }
}
