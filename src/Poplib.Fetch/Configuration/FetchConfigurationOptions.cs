using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Poplib.Fetch.Connection;

namespace Poplib.Fetch.Configuration;

/// <summary>
/// The accounts to fetch as configuration: the same shape and key names as <c>poplib fetch</c>'s JSON
/// config file (<c>state</c>, <c>parallel</c>, <c>defaults</c>, <c>accounts</c>; see docs/fetch.md), so
/// <c>configuration.GetSection("Pop3Fetch").Get&lt;FetchConfigurationOptions&gt;()</c> followed by
/// <see cref="ToAccounts"/> gives the accounts the CLI would fetch from that file.
/// </summary>
/// <remarks>
/// Differences from the CLI's reader: relative paths are relative to the current directory (not to a
/// file); a password is <c>{"env": …}</c> or <c>{"file": …}</c> (not a command or inline text: pass
/// secrets through <see cref="ToAccounts"/>'s provider); <c>insecureSkipVerify</c> is refused (trust the
/// server's certificate with <c>caFile</c> instead).
/// </remarks>
public sealed class FetchConfigurationOptions
{
    /// <summary>The state database (<c>state</c>); null: <see cref="State.SqliteFetchStateStore.DefaultPath"/>.</summary>
    public string? State { get; set; }

    /// <summary>How many accounts to fetch at once (<c>parallel</c>).</summary>
    public int? Parallel { get; set; }

    /// <summary>Settings every account has unless it sets its own (<c>defaults</c>).</summary>
    public FetchAccountOptions? Defaults { get; set; }

    /// <summary>The accounts (<c>accounts</c>).</summary>
    public IList<FetchAccountOptions> Accounts { get; set; } = [];

    /// <summary>
    /// The enabled accounts, checked as the CLI checks its config (each mistake a
    /// <see cref="FetchException"/> with <see cref="FetchFailure.Configuration"/> naming the account and the key).
    /// </summary>
    /// <param name="password">Produces an account's password; null: from its <c>password</c> setting (environment or file).</param>
    /// <param name="destination">The destination of accounts that name none (an application's sink); null: every account must name one.</param>
    public IReadOnlyList<FetchAccount> ToAccounts(Func<FetchAccountOptions, Func<CancellationToken, ValueTask<string>>>? password = null, FetchDestination? destination = null)
    {
        if (Accounts.Count == 0)
            throw Error("\"accounts\" must be a non-empty array");
        var result = new List<FetchAccount>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int index = 0;
        foreach (FetchAccountOptions own in Accounts)
        {
            index++;
            FetchAccountOptions account = own.Over(Defaults);
            string name = account.Name ?? $"account #{index}";
            if (account.Enabled == false)
                continue;
            if (!names.Add(name))
                throw Error($"two accounts are called \"{name}\"");
            result.Add(account.ToAccount(name, own, password, destination));
        }

        if (result.Count == 0)
            throw Error("every account is disabled");
        foreach (IGrouping<AccountKey, FetchAccount> same in result.GroupBy(a => a.Key).Where(g => g.Count() > 1))
            throw Error($"the accounts {string.Join(" and ", same.Select(a => $"\"{a.Name}\""))} fetch the same mailbox ({same.Key}); keep one");
        return result;
    }

    internal static FetchException Error(string message) => new(FetchFailure.Configuration, message);
}

/// <summary>A password's source in configuration: exactly one of <see cref="Env"/> and <see cref="File"/>.</summary>
public sealed class FetchPasswordOptions
{
    /// <summary>An environment variable holding it (<c>env</c>).</summary>
    public string? Env { get; set; }

    /// <summary>A file whose first line is it (<c>file</c>).</summary>
    public string? File { get; set; }
}

/// <summary>One account's settings (or the defaults'), with the CLI config file's key names.</summary>
public sealed class FetchAccountOptions
{
    /// <summary>The account's name (<c>name</c>); default <c>account #n</c>.</summary>
    public string? Name { get; set; }

    /// <summary>False skips the account (<c>enabled</c>).</summary>
    public bool? Enabled { get; set; }

    /// <summary>The server (<c>host</c>).</summary>
    public string? Host { get; set; }

    /// <summary>The port (<c>port</c>); default 995 with <c>tls</c>, else 110.</summary>
    public int? Port { get; set; }

    /// <summary><c>tls</c> (the default), <c>starttls</c> or <c>none</c> (<c>security</c>).</summary>
    public string? Security { get; set; }

    /// <summary>The login (<c>user</c>).</summary>
    public string? User { get; set; }

    /// <summary>Where the password comes from (<c>password</c>).</summary>
    public FetchPasswordOptions? Password { get; set; }

    /// <summary>How to log in (<c>auth</c>): see <see cref="FetchAccount.LoginMethod"/>.</summary>
    public string? Auth { get; set; }

    /// <summary>A PEM or DER file of certificates trusted besides the system's roots (<c>caFile</c>): a self-signed server's, a company CA; see <see cref="Pop3ClientOptions.TrustedCertificates"/>.</summary>
    public string? CaFile { get; set; }

    /// <summary>
    /// Fingerprints the server's certificate must match, one of them, in addition to the chain check (<c>tlsFingerprints</c>):
    /// <c>sha256:BASE64</c> of its public key or <c>sha256:HEX</c> of the certificate, see <see cref="CertificatePin"/>;
    /// an account's own list replaces the defaults' list.
    /// </summary>
    public string[]? TlsFingerprints { get; set; }

    /// <summary>Refused here when true (<c>insecureSkipVerify</c>): trust the certificate with <see cref="CaFile"/> instead.</summary>
    public bool? InsecureSkipVerify { get; set; }

    /// <summary>Allow logging in without TLS (<c>allowInsecureAuth</c>).</summary>
    public bool? AllowInsecureAuth { get; set; }

    /// <summary>The network timeout in seconds (<c>timeout</c>); default 60.</summary>
    public int? Timeout { get; set; }

    /// <summary>Deliver into this Maildir (<c>maildir</c>).</summary>
    public string? Maildir { get; set; }

    /// <summary>Append to this mbox (<c>mbox</c>).</summary>
    public string? Mbox { get; set; }

    /// <summary>Pipe each message to this command (<c>mda</c>).</summary>
    public string? Mda { get; set; }

    /// <summary>Hand each message to this LMTP server: <c>HOST:PORT</c> or <c>unix:/path</c> (<c>lmtp</c>); needs <see cref="LmtpRecipients"/>.</summary>
    public string? Lmtp { get; set; }

    /// <summary>The envelope recipients for <see cref="Lmtp"/>, one or more (<c>lmtpRecipients</c>); an account's own list replaces the defaults' list.</summary>
    public string[]? LmtpRecipients { get; set; }

    /// <summary><c>keep</c> (the default) or <c>delete</c> (<c>policy</c>).</summary>
    public string? Policy { get; set; }

    /// <summary>The size limit: octets or <c>512K</c>, <c>10M</c>, <c>1G</c> (<c>maxSize</c>).</summary>
    public string? MaxSize { get; set; }

    /// <summary><c>skip</c> or <c>headers</c> (<c>oversize</c>).</summary>
    public string? Oversize { get; set; }

    /// <summary>At most this many messages per run (<c>limit</c>).</summary>
    public int? Limit { get; set; }

    /// <summary><c>refuse</c>, <c>dedupe</c>, <c>mark-seen</c> or <c>refetch</c> (<c>onUidlReset</c>).</summary>
    public string? OnUidlReset { get; set; }

    /// <summary>Messages per durable group (<c>batch</c>).</summary>
    public int? Batch { get; set; }

    /// <summary>Seconds, or <c>90s</c>, <c>30m</c>, <c>2h</c> (<c>maxRunTime</c>).</summary>
    public string? MaxRunTime { get; set; }

    /// <summary>Seconds, or <c>90s</c>, <c>5m</c> (<c>sinkTimeout</c>; the library's own: the CLI has no sink).</summary>
    public string? SinkTimeout { get; set; }

    /// <summary>How often a daemon fetches the account: seconds, or <c>30s</c>, <c>5m</c>, <c>1h</c> (<c>interval</c>); see <see cref="FetchAccount.Interval"/>.</summary>
    public string? Interval { get; set; }

    /// <summary>These settings over <paramref name="defaults"/>: each of ours wins; a destination of ours replaces the defaults' destination.</summary>
    internal FetchAccountOptions Over(FetchAccountOptions? defaults)
    {
        if (defaults is null)
            return this;
        bool ownDestination = Maildir is not null || Mbox is not null || Mda is not null || Lmtp is not null;
        return new FetchAccountOptions
        {
            Name = Name ?? defaults.Name,
            Enabled = Enabled ?? defaults.Enabled,
            Host = Host ?? defaults.Host,
            Port = Port ?? defaults.Port,
            Security = Security ?? defaults.Security,
            User = User ?? defaults.User,
            Password = Password ?? defaults.Password,
            Auth = Auth ?? defaults.Auth,
            CaFile = CaFile ?? defaults.CaFile,
            TlsFingerprints = TlsFingerprints ?? defaults.TlsFingerprints,
            InsecureSkipVerify = InsecureSkipVerify ?? defaults.InsecureSkipVerify,
            AllowInsecureAuth = AllowInsecureAuth ?? defaults.AllowInsecureAuth,
            Timeout = Timeout ?? defaults.Timeout,
            Maildir = ownDestination ? Maildir : defaults.Maildir,
            Mbox = ownDestination ? Mbox : defaults.Mbox,
            Mda = ownDestination ? Mda : defaults.Mda,
            Lmtp = ownDestination ? Lmtp : defaults.Lmtp,
            LmtpRecipients = LmtpRecipients ?? defaults.LmtpRecipients,
            Policy = Policy ?? defaults.Policy,
            MaxSize = MaxSize ?? defaults.MaxSize,
            Oversize = Oversize ?? defaults.Oversize,
            Limit = Limit ?? defaults.Limit,
            OnUidlReset = OnUidlReset ?? defaults.OnUidlReset,
            Batch = Batch ?? defaults.Batch,
            MaxRunTime = MaxRunTime ?? defaults.MaxRunTime,
            SinkTimeout = SinkTimeout ?? defaults.SinkTimeout,
            Interval = Interval ?? defaults.Interval,
        };
    }

    /// <summary>The certificates in <paramref name="path"/>, trusted besides the system's roots.</summary>
    private static X509Certificate2Collection Trust(string where, string path)
    {
        try
        {
            return CertificateFile.Load(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            throw FetchConfigurationOptions.Error($"{where}: cannot use {path}: {e.Message}");
        }
    }

    private static CertificatePin[] Pins(string where, string[]? fingerprints)
    {
        try
        {
            return [.. (fingerprints ?? []).Select(CertificatePin.Parse)];
        }
        catch (FormatException e)
        {
            throw FetchConfigurationOptions.Error($"{where}: {e.Message}");
        }
    }

    internal FetchAccount ToAccount(string name, FetchAccountOptions own, Func<FetchAccountOptions, Func<CancellationToken, ValueTask<string>>>? password, FetchDestination? sink)
    {
        string Where(string key) => $"{name}: \"{key}\"";
        string host = NonEmpty(Host, Where("host")) ?? throw FetchConfigurationOptions.Error($"{name}: \"host\" is missing");
        string user = NonEmpty(User, Where("user")) ?? throw FetchConfigurationOptions.Error($"{name}: \"user\" is missing");
        string security = (Security ?? "tls").ToLowerInvariant();
        FetchTls tls = security switch
        {
            "tls" => FetchTls.Implicit,
            "starttls" => FetchTls.StartTls,
            "none" => FetchTls.None,
            _ => throw FetchConfigurationOptions.Error($"{Where("security")} must be tls, starttls or none, not \"{Security}\""),
        };
        if (Port is < 1 or > 65535)
            throw FetchConfigurationOptions.Error($"{Where("port")} must be a whole number from 1 to 65535");
        if (Auth is not null && !LoginMethods.IsKnown(Auth))
            throw FetchConfigurationOptions.Error($"{Where("auth")}: unknown login method \"{Auth}\" ({LoginMethods.Names})");
        // Turning certificate checks off is for a person at a shell, warned each time; a service
        // configured to do it would do it silently for months. Trust the server's certificate instead.
        if (InsecureSkipVerify == true)
            throw FetchConfigurationOptions.Error($"{Where("insecureSkipVerify")} is not taken here: give the server's certificate (or its CA) as \"caFile\" instead");
        X509Certificate2Collection trusted = CaFile is null ? [] : Trust(Where("caFile"), CaFile);
        CertificatePin[] pins = Pins(Where("tlsFingerprints"), TlsFingerprints);
        if (Timeout is < 1 or > 86400)
            throw FetchConfigurationOptions.Error($"{Where("timeout")} must be a whole number from 1 to 86400");

        if (own.LmtpRecipients is not null && Lmtp is null)
            throw FetchConfigurationOptions.Error($"{Where("lmtpRecipients")} needs \"lmtp\" (the LMTP server to deliver to)");

        return new FetchAccount(host, user, password?.Invoke(own) ?? Secret(name), Destination(name, sink), name)
        {
            Port = Port ?? (tls == FetchTls.Implicit ? Pop3ClientOptions.DefaultSslPort : Pop3ClientOptions.DefaultPort),
            Tls = tls,
            Policy = ToPolicy(name),
            ClientOptions = new Pop3ClientOptions
            {
                Timeout = TimeSpan.FromSeconds(Timeout ?? 60),
                AllowInsecureAuthentication = AllowInsecureAuth == true,
                TrustedCertificates = trusted,
                PinnedCertificates = pins,
            },
            LoginMethod = Auth,
            SecretVariables = Password?.Env is { } variable ? [variable] : [],
            Interval = Interval is null ? null : Duration(Interval, Where("interval")),
        };
    }

    private Func<CancellationToken, ValueTask<string>> Secret(string name)
    {
        switch (Password)
        {
            case { Env: { Length: > 0 } variable, File: null }:
                return _ => ValueTask.FromResult(Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
                    ? value
                    : throw FetchConfigurationOptions.Error($"{name}: the environment variable {variable} holds no password"));
            case { File: { Length: > 0 } file, Env: null }:
                string path = Path.GetFullPath(ExpandHome(file));
                return async cancellationToken =>
                {
                    string text = await System.IO.File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
                    return text.Split('\n')[0].TrimEnd('\r');
                };
            default:
                throw FetchConfigurationOptions.Error($"{name}: \"password\" must have exactly one of env, file");
        }
    }

    private FetchDestination Destination(string name, FetchDestination? sink)
    {
        var given = new[] { ("maildir", DestinationKind.Maildir, Maildir), ("mbox", DestinationKind.Mbox, Mbox), ("mda", DestinationKind.Mda, Mda), ("lmtp", DestinationKind.Lmtp, Lmtp) }
            .Where(d => d.Item3 is not null).ToList();
        if (given.Count == 0 && sink is not null)
            return sink;
        if (given.Count != 1)
            throw FetchConfigurationOptions.Error($"{name}: give exactly one destination: \"maildir\", \"mbox\", \"mda\" or \"lmtp\"");
        (string key, DestinationKind kind, string? value) = given[0];
        if (kind == DestinationKind.Lmtp)
        {
            string[] recipients = LmtpRecipients ?? [];
            return FetchDestination.LmtpProblem(value!, recipients) is { } wrong
                ? throw FetchConfigurationOptions.Error($"{name}: \"lmtp\" {wrong}")
                : FetchDestination.Lmtp(value!, recipients);
        }

        string target = kind == DestinationKind.Mda || string.IsNullOrWhiteSpace(value) ? value! : Path.TrimEndingDirectorySeparator(Path.GetFullPath(ExpandHome(value)));
        if (FetchDestination.Problem(kind, target) is { } problem)
            throw FetchConfigurationOptions.Error($"{name}: \"{key}\" {problem}");
        return kind switch
        {
            DestinationKind.Maildir => FetchDestination.Maildir(target),
            DestinationKind.Mbox => FetchDestination.Mbox(target),
            _ => FetchDestination.Command(target),
        };
    }

    private FetchPolicy ToPolicy(string name)
    {
        string Where(string key) => $"{name}: \"{key}\"";
        var defaults = new FetchPolicy();
        string policy = Policy ?? "keep";
        if (policy is not ("keep" or "delete"))
            throw FetchConfigurationOptions.Error($"{Where("policy")} must be keep or delete, not \"{policy}\"");
        return defaults with
        {
            Delete = policy == "delete",
            MaxSize = MaxSize is null ? defaults.MaxSize
                : (long.TryParse(MaxSize, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0) || SizeParser.TryParse(MaxSize, out n) ? n
                : throw FetchConfigurationOptions.Error($"{Where("maxSize")} must be a size such as 10485760 or \"10M\""),
            Oversize = Oversize is null ? defaults.Oversize : Choice<OversizeAction>(Oversize, Where("oversize")),
            Limit = Limit is null ? defaults.Limit : Limit >= 1 ? Limit : throw FetchConfigurationOptions.Error($"{Where("limit")} must be a whole number from 1 to {int.MaxValue}"),
            OnUidlReset = OnUidlReset is null ? defaults.OnUidlReset : Choice<UidlResetAction>(OnUidlReset, Where("onUidlReset")),
            BatchSize = Batch is null ? defaults.BatchSize : Batch is >= 1 and <= 100_000 ? Batch.Value : throw FetchConfigurationOptions.Error($"{Where("batch")} must be a whole number from 1 to 100000"),
            MaxRunTime = MaxRunTime is null ? defaults.MaxRunTime : Duration(MaxRunTime, Where("maxRunTime")),
            SinkTimeout = SinkTimeout is null ? defaults.SinkTimeout : Duration(SinkTimeout, Where("sinkTimeout")),
        };
    }

    private static TimeSpan Duration(string text, string where) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int seconds) && seconds is > 0 and <= 7 * 24 * 3600 ? TimeSpan.FromSeconds(seconds)
        : DurationParser.TryParse(text, out TimeSpan parsed) ? parsed
        : throw FetchConfigurationOptions.Error($"{where} must be a duration such as 1800, \"90s\", \"30m\" or \"2h\" (at most a week)");

    private static T Choice<T>(string text, string where)
        where T : struct, Enum =>
        EnumNames.TryParse(text, out T parsed) ? parsed : throw FetchConfigurationOptions.Error($"{where} must be one of {string.Join(", ", EnumNames.All<T>())}, not \"{text}\"");

    private static string? NonEmpty(string? value, string where) =>
        value is null ? null : value.Length > 0 ? value : throw FetchConfigurationOptions.Error($"{where} must be a non-empty string");

    /// <summary><c>~/…</c> as the home folder, as the CLI reads paths.</summary>
    internal static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + path[1..]
            : path;
}
