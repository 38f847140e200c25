namespace Poplib.Cli;

/// <summary>The process exit codes, documented in docs/cli.md; scripts rely on them.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Internal = 1;
    public const int Usage = 2;
    public const int Connection = 3;
    public const int Authentication = 4;
    public const int ServerError = 5;
    public const int LocalIo = 6;
    public const int Protocol = 7;
    public const int SomeAccountsFailed = 8; // poplib fetch with several accounts: at least one failed, the others ran
    public const int TemporaryFailure = 75; // sysexits EX_TEMPFAIL: [IN-USE], [LOGIN-DELAY], [SYS/TEMP] — retry later
    public const int Config = 78; // sysexits EX_CONFIG: the fetch config file is wrong
    public const int Interrupted = 130; // the shell's convention for SIGINT (128 + 2)
    public const int BrokenPipe = 141; // standard output closed (128 + SIGPIPE), as for tools killed by SIGPIPE
}

/// <summary>A failure with a message for the user and the exit code it maps to.</summary>
internal sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
