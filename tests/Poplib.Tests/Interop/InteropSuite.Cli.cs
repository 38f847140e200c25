using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Poplib.Tests.Cli;
using Poplib.Tests.Interop.Lab;

namespace Poplib.Tests.Interop;

/// <summary>The <c>poplib</c> command against the server: <c>fetch</c> end to end, and parity with Python's poplib.</summary>
public abstract partial class InteropSuite
{
    private const string PasswordVariable = "POPLIB_INTEROP_PASSWORD";

    /// <summary>TOP's line count in the parity check.</summary>
    private const int TopLines = 5;

    [InteropFact]
    public async Task Fetch_keeps_each_message_once_then_deletes_them_all_byte_exact()
    {
        LabMailbox mailbox = FreshMailbox();
        string[] served;
        using (Pop3Client client = await OpenSessionAsync(async: true))
        {
            // What the server serves, checked against the generated mail: what fetch must deliver.
            served = [.. (await RetrieveAllAsync(true, client)).Select(m => AsStored(m.Content)).Order(StringComparer.Ordinal)];
            await client.QuitAsync();
        }

        DirectoryInfo folder = Directory.CreateTempSubdirectory("poplib-interop-fetch-");
        try
        {
            string maildir = Path.Combine(folder.FullName, "Maildir");
            string[] fetch = ["fetch", .. CliConnection(implicitTls: true), "--state", Path.Combine(folder.FullName, "state.sqlite"), "--maildir", maildir, "--json"];

            JsonElement first = await FetchAsync(fetch);
            Assert.Equal((mailbox.Count, mailbox.Count, 0), (first.GetProperty("onServer").GetInt32(), first.GetProperty("delivered").GetInt32(), first.GetProperty("deleted").GetInt32()));
            JsonElement again = await FetchAsync(fetch);
            Assert.Equal((mailbox.Count, 0, 0), (again.GetProperty("onServer").GetInt32(), again.GetProperty("delivered").GetInt32(), again.GetProperty("deleted").GetInt32()));
            JsonElement delete = await FetchAsync([.. fetch, "--delete"]);
            Assert.Equal((mailbox.Count, 0, mailbox.Count), (delete.GetProperty("onServer").GetInt32(), delete.GetProperty("delivered").GetInt32(), delete.GetProperty("deleted").GetInt32()));

            string[] delivered = [.. Directory.GetFiles(Path.Combine(maildir, "new")).Select(f => Encoding.UTF8.GetString(File.ReadAllBytes(f))).Order(StringComparer.Ordinal)];
            Assert.Equal(served.Length, delivered.Length);
            for (int i = 0; i < served.Length; i++)
                AssertSameBytes(Encoding.UTF8.GetBytes(served[i]), Encoding.UTF8.GetBytes(delivered[i]), $"{Server}: delivered message {i + 1} of {served.Length} (sorted)");

            using Pop3Client after = await OpenSessionAsync(async: true);
            Assert.Equal(new Pop3MailboxStatus(0, 0), await after.StatAsync());
            await after.QuitAsync();
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [InteropFact]
    public async Task Cli_says_what_python_poplib_says_for_stat_list_uidl_retr_and_top()
    {
        LabMailbox mailbox = FreshMailbox();
        // solid-pop3d numbers its messages anew after the first session (which moves them from new/ to
        // cur/): one session first, so that poplib and the CLI meet the same numbers.
        using (Pop3Client first = await OpenSessionAsync(async: true))
            await first.QuitAsync();

        // Python next: it sends UIDL before anything else, so GNU pop3d's X-UIDL is in place for both.
        using JsonDocument python = JsonDocument.Parse(await PythonPoplibAsync());
        JsonElement py = python.RootElement;
        string[] connection = CliConnection(implicitTls: false);

        string stat = (await CliAsync(["stat", .. connection])).Out;
        long[] statNumbers = [.. stat.Split(' ').Where(w => w.Length > 0 && char.IsAsciiDigit(w[0])).Select(w => long.Parse(w.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture))];
        Assert.Equal([py.GetProperty("stat")[0].GetInt64(), py.GetProperty("stat")[1].GetInt64()], statNumbers);
        Assert.Equal(mailbox.Count, statNumbers[0]);

        Assert.Equal(Rows(py.GetProperty("list")), TableRows((await CliAsync(["list", .. connection])).Out));
        Assert.Equal(Rows(py.GetProperty("uidl")), TableRows((await CliAsync(["uidl", .. connection])).Out));
        // Every message's RETR; LIST n, UIDL n and TOP for the first three (a lone ".", long lines,
        // "From " lines: the generator puts them there) and the last. Each is a session: a login
        // costs popa3d and GNU pop3d a PAM check.
        foreach (JsonProperty one in py.GetProperty("list_one").EnumerateObject())
        {
            string n = one.Name;
            string uid = py.GetProperty("uidl_one").GetProperty(n).GetString()!;
            byte[] retr = Convert.FromBase64String(py.GetProperty("retr").GetProperty(n).GetString()!);
            Check(new Pop3UidlEntry(int.Parse(n, CultureInfo.InvariantCulture), uid), retr); // poplib is right, and so…
            AssertSameBytes(retr, (await CliAsync(["retr", n, .. connection])).Binary, $"{Server}: poplib retr {n}"); // …is the CLI
            if (n is not ("1" or "2" or "3") && n != mailbox.Count.ToString(CultureInfo.InvariantCulture))
                continue;

            Assert.Equal([(n, one.Value.GetInt64().ToString(CultureInfo.InvariantCulture))], TableRows((await CliAsync(["list", n, .. connection])).Out));
            Assert.Equal([(n, uid)], TableRows((await CliAsync(["uidl", n, .. connection])).Out));
            AssertSameBytes(Convert.FromBase64String(py.GetProperty("top0").GetProperty(n).GetString()!), (await CliAsync(["top", n, "0", .. connection])).Binary, $"{Server}: poplib top {n} 0");

            // Where the server sends more than TOP asked for (GNU pop3d), poplib passes it on; Poplib never does.
            byte[] top = Convert.FromBase64String(py.GetProperty("top").GetProperty(n).GetString()!);
            byte[] asked = RealServer.HeaderAndLines(top, TopLines);
            Assert.Equal(Server.TopExtraBlankLine, asked.Length < top.Length);
            AssertSameBytes(asked, (await CliAsync(["top", n, TopLines.ToString(CultureInfo.InvariantCulture), .. connection])).Binary, $"{Server}: poplib top {n} {TopLines}");
        }
    }

    /// <summary>The CLI's connection options for this server: TLS (implicit, or STLS required) with the lab's certificate where it has TLS; plain text, opted in, where not.</summary>
    private string[] CliConnection(bool implicitTls)
    {
        Environment.SetEnvironmentVariable(PasswordVariable, Pop3Lab.Password);
        string[] who = ["--user", Pop3Lab.User, "--password-env", PasswordVariable];
        if (!Server.HasTls)
            return ["--host", Pop3Lab.Host, "--port", Server.Port.ToString(CultureInfo.InvariantCulture), "--no-starttls", "--allow-insecure-auth", .. who];
        return implicitTls
            ? ["--host", Pop3Lab.Host, "--port", Server.TlsPort!.Value.ToString(CultureInfo.InvariantCulture), "--ssl", "--ca-file", Pop3Lab.CertificatePath, .. who]
            : ["--host", Pop3Lab.Host, "--port", Server.Port.ToString(CultureInfo.InvariantCulture), "--starttls", "--ca-file", Pop3Lab.CertificatePath, "--auth", "user", .. who];
    }

    private async Task<CliRunner.Outcome> CliAsync(string[] args)
    {
        CliRunner.Outcome outcome = await CliRunner.RunAsync(args);
        Assert.True(outcome.ExitCode == 0, $"{Server}: poplib {string.Join(' ', args)} exited {outcome.ExitCode}: {outcome.Error}");
        return outcome;
    }

    /// <summary>Runs <c>poplib fetch … --json</c> and returns its one account's report.</summary>
    private async Task<JsonElement> FetchAsync(string[] args)
    {
        CliRunner.Outcome outcome = await CliAsync(args);
        using JsonDocument report = JsonDocument.Parse(outcome.Out);
        return report.RootElement.GetProperty("accounts")[0].Clone();
    }

    /// <summary>Runs <c>Interop/poplib_parity.py</c> (Python's poplib, USER/PASS, STLS where the server has it) and returns its JSON.</summary>
    private async Task<string> PythonPoplibAsync()
    {
        var info = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "Interop", "poplib_parity.py"), Pop3Lab.Host, Server.Port.ToString(CultureInfo.InvariantCulture),
            Pop3Lab.User, PasswordVariable, Server.HasTls ? "stls" : "plain", Pop3Lab.CertificatePath, TopLines.ToString(CultureInfo.InvariantCulture),
        })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment[PasswordVariable] = Pop3Lab.Password;
        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(limit.Token);
        Assert.True(process.ExitCode == 0, $"poplib_parity.py failed ({process.ExitCode}): {await error}");
        return await output;
    }

    private static (string, string)[] Rows(JsonElement pairs) =>
        [.. pairs.EnumerateArray().Select(p => (p[0].GetInt64().ToString(CultureInfo.InvariantCulture), p[1].ValueKind == JsonValueKind.Number ? p[1].GetInt64().ToString(CultureInfo.InvariantCulture) : p[1].GetString()!))];

    /// <summary>The rows of the CLI's listing table (<c> #  OCTETS</c> / <c> 1    4096</c>), as (number, value).</summary>
    private static (string, string)[] TableRows(string table) =>
        [.. table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(cells => (cells[0], cells[1]))];

    /// <summary>A message as a Maildir delivery stores it: LF line endings.</summary>
    private static string AsStored(byte[] message) => Encoding.UTF8.GetString(message).Replace("\r\n", "\n", StringComparison.Ordinal);
}
