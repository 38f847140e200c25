using System.Globalization;
using System.Text.Json;
using Poplib.Cli.Fetch.Progress;
using Poplib.Cli.Output;
using Poplib.Fetch;
using Poplib.Fetch.Platform;
using Poplib.Fetch.State;

namespace Poplib.Cli.Fetch;

/// <summary>How the run reports: a live display, lines, nothing but errors, or one JSON document.</summary>
internal enum OutputMode
{
    Live,
    Lines,
    Quiet,
    Json,

    /// <summary>No progress, but the summary table at the end.</summary>
    Summary,
}

/// <summary>
/// Runs the accounts, up to <c>parallel</c> at once, each on its own connection and state
/// connection; one account's failure never stops the others. Ends with the summary and the exit code.
/// </summary>
internal static class FetchRunner
{
    public static async Task<int> RunAsync(IReadOnlyList<AccountSettings> accounts, StateLocation state, int parallel, OutputMode mode, CliConsole console, CancellationToken cancellationToken)
    {
        IFetchProgress progress = mode switch
        {
            OutputMode.Live => new LiveProgress(console.Out, accounts.Select(a => a.Name)),
            OutputMode.Lines => new LineProgress(console.Out, console.Error),
            OutputMode.Quiet or OutputMode.Summary => new QuietProgress(console.Error),
            _ => new QuietProgress(null),
        };

        // Secrets first, one account after another: a prompt or a password manager asking for its own
        // passphrase must not interleave with others, nor wait while connections time out.
        var reports = new AccountReport?[accounts.Count];
        var ready = new AccountSettings[accounts.Count];
        for (int i = 0; i < accounts.Count; i++)
        {
            try
            {
                string password = accounts[i].ReadPassword();
                ready[i] = accounts[i] with { ReadPassword = () => password };
            }
            catch (CliException e)
            {
                reports[i] = Failed(accounts[i].Name, e.ExitCode, e.Message, interrupted: false, progress);
            }
            catch (FetchException e)
            {
                (int failed, string message) = ErrorReporter.Classify(e);
                reports[i] = Failed(accounts[i].Name, failed, message, interrupted: false, progress);
            }
        }

        // No program fetch starts may see any account's password, its own included.
        var hidden = new ChildEnvironment(accounts.Select(a => a.PasswordVariable).OfType<string>(), ready.Where(a => a is not null).Select(a => a.ReadPassword()));

        using (var gate = new SemaphoreSlim(parallel))
        {
            Task[] tasks = [.. ready.Select((account, i) => reports[i] is not null ? Task.CompletedTask : Task.Run(async () =>
            {
                await gate.WaitAsync(CancellationToken.None);
                try
                {
                    reports[i] = await RunOneAsync(account, state, hidden, console, progress, cancellationToken);
                }
                finally
                {
                    gate.Release();
                }
            }, CancellationToken.None))];
            await Task.WhenAll(tasks);
        }

        (progress as IDisposable)?.Dispose();
        AccountReport[] done = [.. reports.Select(r => r!)];
        int code = ExitCode(done);
        if (mode == OutputMode.Json)
            WriteJson(console.Out, done, code);
        else if (mode != OutputMode.Quiet)
            WriteSummary(console.Out, done);
        return code;
    }

    private static async Task<AccountReport> RunOneAsync(AccountSettings account, StateLocation location, ChildEnvironment hidden, CliConsole console, IFetchProgress progress, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return Failed(account.Name, ExitCodes.Interrupted, "interrupted before it started", interrupted: true, progress);
        IFetchStateStore state;
        try
        {
            state = location.OpenStore();
        }
        catch (FetchException e)
        {
            (int code, string message) = ErrorReporter.Classify(e);
            return Failed(account.Name, code, message, interrupted: false, progress);
        }

        AccountReport report;
        using (state)
        {
            var fetcher = new Fetcher(account.ToFetchAccount(account.ReadPassword(), console), state, new ProgressObserver(progress)) { Hidden = hidden };
            try
            {
                FetchResult result = await fetcher.RunAsync(cancellationToken);
                report = new AccountReport(account.Name, result, ExitCodes.Ok, null, Interrupted: false);
            }
            catch (FetchException e)
            {
                (int code, string message) = e.Wrapped ? ErrorReporter.Classify(e) : FetchWording.Failure(e, account.Policy);
                report = new AccountReport(account.Name, e.Result, code, TerminalText.Safe(message), Interrupted: e.Failure == FetchFailure.Canceled);
            }
        }

        progress.Finished(report);
        return report;
    }

    private static AccountReport Failed(string name, int code, string message, bool interrupted, IFetchProgress progress)
    {
        var report = new AccountReport(name, null, code, message, interrupted);
        progress.Finished(report);
        return report;
    }

    /// <summary>One account: its own code. Several: 0 if all went well, 130 if interrupted, else "some accounts failed".</summary>
    internal static int ExitCode(IReadOnlyList<AccountReport> reports)
    {
        if (reports.Count == 1)
            return reports[0].ExitCode;
        if (reports.All(r => r.ExitCode == 0))
            return ExitCodes.Ok;
        return reports.Any(r => r.Interrupted) ? ExitCodes.Interrupted : ExitCodes.SomeAccountsFailed;
    }

    private static void WriteSummary(TextWriter output, IReadOnlyList<AccountReport> reports)
    {
        var table = new Table("ACCOUNT", "NEW", "BYTES", "DELETED", "TIME", "STATUS");
        foreach (AccountReport r in reports)
        {
            string status = r.Status;
            if (r.SkippedOversize > 0)
                status += string.Create(CultureInfo.InvariantCulture, $", {r.SkippedOversize} over max size");
            if (r.Duplicates > 0)
                status += string.Create(CultureInfo.InvariantCulture, $", {r.Duplicates} duplicates skipped");
            if (r.Error is not null)
                status = r.Interrupted ? r.Error : status + ": " + r.Error;
            table.Add(r.Name,
                (r.Delivered + r.HeadersOnly).ToString(CultureInfo.InvariantCulture),
                r.DeliveredBytes.ToString("N0", CultureInfo.InvariantCulture),
                r.Deleted.ToString(CultureInfo.InvariantCulture),
                r.Elapsed.TotalSeconds.ToString("0.0s", CultureInfo.InvariantCulture),
                status);
        }

        table.WriteTo(output);
    }

    private static void WriteJson(TextWriter output, IReadOnlyList<AccountReport> reports, int code) =>
        JsonOutput.Write(output, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("exitCode", code);
            json.WriteStartArray("accounts");
            foreach (AccountReport r in reports)
                WriteAccount(json, r);
            json.WriteEndArray();
            json.WriteEndObject();
        });

    private static void WriteAccount(Utf8JsonWriter json, AccountReport r)
    {
        json.WriteStartObject();
        json.WriteString("name", r.Name);
        json.WriteString("status", r.Interrupted ? "interrupted" : r.ExitCode == 0 ? "ok" : "failed");
        json.WriteNumber("exitCode", r.ExitCode);
        if (r.Error is null)
            json.WriteNull("error");
        else
            json.WriteString("error", r.Error);
        json.WriteNumber("onServer", r.OnServer);
        json.WriteNumber("delivered", r.Delivered);
        json.WriteNumber("deliveredOctets", r.DeliveredBytes);
        json.WriteNumber("headersOnly", r.HeadersOnly);
        json.WriteNumber("deleted", r.Deleted);
        json.WriteNumber("skippedOversize", r.SkippedOversize);
        json.WriteNumber("duplicatesSkipped", r.Duplicates);
        json.WriteNumber("refused", r.Refused);
        json.WriteNumber("rejected", r.Rejected);
        json.WriteNumber("seconds", Math.Round(r.Elapsed.TotalSeconds, 3));
        json.WriteStartArray("warnings");
        foreach (string warning in r.Warnings)
            json.WriteStringValue(warning);
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
