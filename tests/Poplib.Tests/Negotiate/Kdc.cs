using System.Diagnostics;
using Poplib.Tests.Interop;

namespace Poplib.Tests.Negotiate;

/// <summary>
/// The platform's NTLM and Kerberos providers on this machine: gss-ntlmssp (NTLM through GSSAPI on
/// Linux) and MIT Kerberos' KDC, both installed by scripts/install-deps.sh as root.
/// </summary>
internal static class NegotiateSetup
{
    public static bool NtlmInstalled => OperatingSystem.IsLinux() && File.Exists("/etc/gss/mech.d/mech.ntlmssp.conf");

    public static bool KdcInstalled => File.Exists("/usr/sbin/krb5kdc") && File.Exists("/usr/sbin/kadmin.local");

    /// <summary>Whether the test host started with the environment of negotiate.runsettings (the native libraries read it).</summary>
    public static bool EnvironmentSet =>
        Environment.GetEnvironmentVariable("NTLM_USER_FILE") is not null && Environment.GetEnvironmentVariable("KRB5_CONFIG") is not null;

    public static bool DovecotGssapiInstalled => File.Exists("/usr/lib/dovecot/modules/auth/libmech_gssapi.so");

    public static string? Missing(bool kerberos, bool dovecot = false)
    {
        if (dovecot && !(Interop.DovecotInstance.IsInstalled && DovecotGssapiInstalled))
            return "Dovecot or its GSSAPI module (dovecot-gssapi) is not installed (run scripts/install-deps.sh as root)";
        if (!EnvironmentSet)
            return "the test host was started without negotiate.runsettings (NTLM_USER_FILE, KRB5_CONFIG): run it through dotnet test";
        if (!NtlmInstalled)
            return "gss-ntlmssp is not installed (run scripts/install-deps.sh as root)";
        if (kerberos && !KdcInstalled)
            return "krb5-kdc is not installed (run scripts/install-deps.sh as root)";
        return null;
    }
}

/// <summary>A test that needs gss-ntlmssp: skipped without it on a developer machine, run (and failing) under CI.</summary>
public sealed class NtlmFactAttribute : FactAttribute
{
    public NtlmFactAttribute()
    {
        if (NegotiateSetup.Missing(kerberos: false) is { } reason && !DovecotFactAttribute.IsCi)
            Skip = reason;
    }
}

/// <inheritdoc cref="NtlmFactAttribute"/>
public sealed class NtlmTheoryAttribute : TheoryAttribute
{
    public NtlmTheoryAttribute()
    {
        if (NegotiateSetup.Missing(kerberos: false) is { } reason && !DovecotFactAttribute.IsCi)
            Skip = reason;
    }
}

/// <summary>A test that needs the private KDC (krb5-kdc): skipped without it on a developer machine, run under CI.</summary>
public sealed class KerberosTheoryAttribute : TheoryAttribute
{
    public KerberosTheoryAttribute()
    {
        if (NegotiateSetup.Missing(kerberos: true) is { } reason && !DovecotFactAttribute.IsCi)
            Skip = reason;
    }
}

/// <summary>A test of Dovecot's AUTH GSSAPI with the private KDC: skipped without them on a developer machine, run under CI.</summary>
public sealed class DovecotKerberosTheoryAttribute : TheoryAttribute
{
    public DovecotKerberosTheoryAttribute()
    {
        if (NegotiateSetup.Missing(kerberos: true, dovecot: true) is { } reason && !DovecotFactAttribute.IsCi)
            Skip = reason;
    }
}

/// <summary>
/// The throw-away realm POPLIB.TEST on 127.0.0.1 (scripts/kdc.sh), in the folder negotiate.runsettings
/// points KRB5_CONFIG, KRB5_KTNAME and KRB5CCNAME at: a key for pop/localhost in its keytab, and the
/// user <see cref="User"/>. Started once for the tests that share it, stopped after them.
/// </summary>
public sealed class KdcFixture : IDisposable
{
    public const string User = "alice";
    public const string Password = "kerberos-secret";
    public const string Realm = "POPLIB.TEST";

    private readonly Lazy<string> _directory = new(Start);

    /// <summary>The realm's folder (starts the KDC on first use).</summary>
    public string Directory => _directory.Value;

    public string Principal => $"{User}@{Realm}";

    /// <summary>Adds a principal NAME@POPLIB.TEST with a password.</summary>
    public void AddPrincipal(string name, string password) => Run("bash", [Script, "add-user", Directory, name, password], stdin: null);

    /// <summary>Gets a ticket for <see cref="User"/> into the ticket cache, as a user's <c>kinit</c> does.</summary>
    public void Kinit() => Run("kinit", [Principal], stdin: Password + "\n");

    /// <summary>Empties the ticket cache.</summary>
    public void Kdestroy() => Run("kdestroy", [], stdin: null, allowFailure: true);

    public void Dispose()
    {
        if (_directory.IsValueCreated)
            Run("bash", [Script, "stop", _directory.Value], stdin: null, allowFailure: true);
    }

    private static string Script => Path.Combine(Infrastructure.ProjectScripts.RepositoryRoot, "scripts", "kdc.sh");

    private static string Start()
    {
        // Relative in negotiate.runsettings, so resolved against the host's working directory as the native library does.
        string config = Environment.GetEnvironmentVariable("KRB5_CONFIG")
            ?? throw new InvalidOperationException(NegotiateSetup.Missing(kerberos: true));
        string directory = Path.GetDirectoryName(Path.GetFullPath(config))!;
        Run("bash", [Script, "start", directory], stdin: null);
        Run("bash", [Script, "add-user", directory, User, Password], stdin: null);
        return directory;
    }

    private static void Run(string program, string[] arguments, string? stdin, bool allowFailure = false)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);
        using Process process = Process.Start(info)!;
        if (stdin is not null)
            process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} did not finish in 60 s.");
        }

        if (process.ExitCode != 0 && !allowFailure)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
    }
}

[CollectionDefinition(nameof(KdcCollection))]
public sealed class KdcCollection : ICollectionFixture<KdcFixture>;
