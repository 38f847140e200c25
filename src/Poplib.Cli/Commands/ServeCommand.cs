using System.CommandLine;
using System.Net;
using Poplib.Cli.Connection;
using Poplib.Testing;

namespace Poplib.Cli.Commands;

/// <summary>
/// <c>poplib serve --maildir DIR</c>: serves a Maildir over POP3 with the in-process test server,
/// on loopback unless <c>--listen</c> says otherwise, until Ctrl-C.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(CliConsole console)
    {
        // Its output reports on work that must go on: a closed standard output only silences it.
        console = console.TolerateClosedOutput();
        var maildir = new Option<DirectoryInfo>("--maildir") { Description = "The Maildir to serve (messages in new/ and cur/)", Required = true };
        var port = new Option<int>("--port", "-p") { Description = "The port (0: a free one)", DefaultValueFactory = _ => 0 };
        var listen = new Option<string>("--listen") { Description = "The address to listen on (default 127.0.0.1; anything else exposes the mailbox to the network)", DefaultValueFactory = _ => "127.0.0.1" };
        var user = new Option<string>("--user", "-u") { Description = "The user name", DefaultValueFactory = _ => "user" };
        var passwordEnv = new Option<string?>("--password-env") { Description = "Read the password from this environment variable" };
        var passwordFile = new Option<string?>("--password-file") { Description = "Read the password from the first line of this file" };
        var tls = new Option<string>("--tls") { Description = "TLS: none, starttls (STLS offered) or implicit (POP3S)", DefaultValueFactory = _ => "starttls" };
        tls.AcceptOnlyFromAmong("none", "starttls", "implicit");
        var certificateOut = new Option<FileInfo?>("--write-certificate") { Description = "Write the server's self-signed certificate (PEM) here, for clients' --ca-file" };
        var readOnly = new Option<bool>("--read-only") { Description = "Refuse DELE (-ERR [SYS/PERM]): clients read the mail but cannot remove any" };
        var command = new Command("serve", "Serve a Maildir over POP3 with the in-process test server (until Ctrl-C)")
        {
            maildir, port, listen, user, passwordEnv, passwordFile, tls, certificateOut, readOnly,
        };

        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                DirectoryInfo directory = result.GetValue(maildir)!;
                if (!directory.Exists)
                    throw new CliException(ExitCodes.Usage, $"no such Maildir: {directory.FullName}");
                if (!IPAddress.TryParse(result.GetValue(listen), out IPAddress? address))
                    throw new CliException(ExitCodes.Usage, $"--listen takes an IP address, not '{result.GetValue(listen)}'");
                string password = PasswordSource.Read(result.GetValue(passwordEnv), result.GetValue(passwordFile), console);
                if (!IPAddress.IsLoopback(address))
                    console.Error.WriteLine($"poplib: WARNING: listening on {address}: other machines can reach this mailbox.");

                Pop3TestServer server;
                try
                {
                    server = await Pop3TestServer.StartAsync(
                        new Pop3TestServerOptions
                        {
                            Address = address,
                            Port = result.GetValue(port),
                            Tls = TlsMode(result.GetValue(tls)),
                            // Beyond loopback, passwords must not cross the network in the clear.
                            AllowPlaintextWithoutTls = IPAddress.IsLoopback(address),
                        },
                        cancellationToken);
                }
                catch (System.Net.Sockets.SocketException e)
                {
                    string reason = e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse ? "address already in use (another server listens there)" : e.Message;
                    throw new CliException(ExitCodes.Connection, $"cannot listen on {new IPEndPoint(address, result.GetValue(port))}: {reason}", e);
                }

                await using var serving = server;
                IPop3Mailbox mailbox = Pop3Mailbox.FromMaildir(directory.FullName);
                if (result.GetValue(readOnly))
                    mailbox = Pop3Mailbox.ReadOnly(mailbox);
                else
                    console.Error.WriteLine($"poplib: WARNING: a client's DELE removes files from {directory.FullName} when it quits; --read-only keeps them.");
                server.AddUser(result.GetValue(user)!, password, mailbox);
                if (result.GetValue(certificateOut) is { } pem)
                    await File.WriteAllTextAsync(pem.FullName, server.Certificate.ExportCertificatePem(), cancellationToken);

                string scheme = TlsMode(result.GetValue(tls)) == Pop3TlsMode.Implicit ? "pops" : "pop";
                console.Out.WriteLine($"Serving {directory.FullName} at {scheme}://{result.GetValue(user)}@{server.EndPoint} (TLS: {result.GetValue(tls)}). Ctrl-C stops.");
                await console.Out.FlushAsync(cancellationToken);
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    console.Out.WriteLine("Stopped.");
                }

                return ExitCodes.Ok;
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, console.Error, debugLevel: 0);
            }
        });
        return command;
    }

    private static Pop3TlsMode TlsMode(string? name) => name switch
    {
        "none" => Pop3TlsMode.None,
        "implicit" => Pop3TlsMode.Implicit,
        _ => Pop3TlsMode.StartTls,
    };
}
