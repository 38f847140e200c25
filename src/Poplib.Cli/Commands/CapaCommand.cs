using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
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
        var showCertificate = new Option<bool>("--show-certificate")
        {
            Description = "Show the server's TLS certificate chain and its fingerprints (for --tls-fingerprint) instead, even when it is not trusted; never logs in",
        };
        connection.AddTo(command);
        command.Add(showCertificate);
        // Logging in is optional here: capabilities are most telling before login. Never when showing a certificate: it may be an impostor's.
        CommandRunner.SetMailAction(command, connection, console, (result, settings) => settings.User is not null && !result.GetValue(showCertificate),
            (context, client) =>
            {
                if (context.Result.GetValue(showCertificate))
                    return Task.FromResult(ShowCertificate(context, client));
                Write(context, client);
                return Task.FromResult(ExitCodes.Ok);
            },
            beforeReporting: (context, settings, error) =>
            {
                // First contact with a self-signed server: show what it presented, then report the refusal as usual.
                if (context.Result.GetValue(showCertificate) && error is Pop3CertificateException { Chain.Count: > 0 } refused)
                    Report(context, settings.Address, refused.Chain, ErrorReporter.Classify(refused).Message);
            });
        return command;
    }

    /// <summary>The chain of a server whose certificate was accepted; a connection without TLS has none to show.</summary>
    private static int ShowCertificate(CommandContext context, Pop3Client client)
    {
        if (!client.IsEncrypted)
        {
            throw new CliException(ExitCodes.ServerError,
                $"{client.Host}:{client.Port.ToString(CultureInfo.InvariantCulture)} did not start TLS (it offers no STLS), so it has no certificate to show: use pops:// or --ssl for its TLS port");
        }

        Report(context, $"{client.Host}:{client.Port.ToString(CultureInfo.InvariantCulture)}", client.ServerCertificateChain, refusal: null);
        return ExitCodes.Ok;
    }

    private static void Report(CommandContext context, string server, IReadOnlyList<X509Certificate2> chain, string? refusal)
    {
        if (context.Json)
            CertificateReport.WriteJson(context.Console.Out, server, chain, refusal);
        else
            CertificateReport.WriteText(context.Console.Out, server, chain, refusal);
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
