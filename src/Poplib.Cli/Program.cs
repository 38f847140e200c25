using Poplib.Cli;

return await CliApp.RunAsync(args, CliConsole.System);
