using System.Globalization;
using System.Text.Json;
using Poplib.Cli.Connection;
using Poplib.Cli.OAuth;
using Poplib.Fetch;
using Poplib.Fetch.Configuration;
using Poplib.Fetch.Platform;

namespace Poplib.Cli.Fetch.Config;

/// <summary>A config file's accounts and global settings, as read by <see cref="FetchConfig.Load"/>.</summary>
internal sealed partial record FetchConfig(string? StatePath, int? Parallel, IReadOnlyList<AccountSettings> Accounts)
{
    private static readonly string[] DestinationFields = ["maildir", "mbox", "mda", "lmtp"];

    private static readonly HashSet<string> AccountFields = new(StringComparer.Ordinal)
    {
        "name", "enabled", "host", "port", "security", "user", "password", "auth", "caFile", "tlsFingerprints", "insecureSkipVerify", "allowInsecureAuth",
        "timeout", "maildir", "mbox", "mda", "lmtp", "lmtpRecipients", "policy", "maxSize", "oversize", "limit", "onUidlReset", "batch", "maxRunTime",
        "interval", "oauth2",
    };

    private static readonly HashSet<string> OAuthFields = new(StringComparer.Ordinal)
    {
        "provider", "clientId", "tenant", "clientSecretEnv", "tokenEndpoint", "authorizationEndpoint", "deviceAuthorizationEndpoint", "scopes",
    };

    /// <summary>
    /// Reads a JSON config (comments and trailing commas allowed). Paths may start with <c>~/</c>;
    /// relative paths are relative to the config file. Every mistake is a <see cref="CliException"/>
    /// with exit code <see cref="ExitCodes.Config"/> naming the file, the account and the field (or a
    /// <see cref="FetchException"/> with <see cref="FetchFailure.Configuration"/>, which maps to it).
    /// </summary>
    public static FetchConfig Load(string path, CliConsole console, int debugLevel)
    {
        string full = Path.GetFullPath(ExpandHome(path));
        string text;
        try
        {
            text = File.ReadAllText(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Config, $"cannot read the config file {full}: {e.Message}", e);
        }

        // The config names commands to run (password, delivery) and whom to trust: obeying a file
        // another user can change would run their commands as us.
        StrictModes.RequireTrustedFile(full, "the config file", FetchFailure.Configuration);

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            // Compilers' file:line:column, counted from 1 (the parser counts from 0, in the message too).
            string where = e.LineNumber is long line && e.BytePositionInLine is long column
                ? string.Create(CultureInfo.InvariantCulture, $"{full}:{line + 1}:{column + 1}")
                : full;
            throw new CliException(ExitCodes.Config, $"{where}: not valid JSON: {JsonPosition().Replace(e.Message, "").TrimEnd()}", e);
        }

        using (document)
        {
            var reader = new Reader(full, console, debugLevel, PrivateToOwner(full));
            return reader.Read(document.RootElement);
        }
    }

    /// <summary>Whether only the owner can read the file (mode 0600 or stricter): a precondition for inline passwords.</summary>
    private static bool PrivateToOwner(string path)
    {
        if (OperatingSystem.IsWindows())
            return true; // ACLs, not modes: the user's profile is private by default
        UnixFileMode mode = File.GetUnixFileMode(path);
        return (mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) == 0;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\s*(Path: \S* \| )?LineNumber: \d+ \| BytePositionInLine: \d+\.?", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex JsonPosition();

    internal static string ExpandHome(string path) => FetchAccountOptions.ExpandHome(path);

    private sealed class Reader(string file, CliConsole console, int debugLevel, bool privateFile)
    {
        private readonly string _folder = Path.GetDirectoryName(file)!;

        // Every account's password variable, hidden from every account's password command.
        private readonly HashSet<string> _secretVariables = new(StringComparer.Ordinal);

        public FetchConfig Read(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
                throw Error("the top level must be an object with an \"accounts\" array");
            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (property.Name is not ("state" or "parallel" or "defaults" or "accounts"))
                    throw Error($"unknown setting \"{property.Name}\" (expected state, parallel, defaults, accounts)");
            }

            string? state = root.TryGetProperty("state", out JsonElement s) ? (String(s, "state") is var given && Poplib.Fetch.PostgreSql.PostgreSqlConnectionString.IsUrl(given) ? given : ResolvePath(given)) : null;
            int? parallel = root.TryGetProperty("parallel", out JsonElement p) ? Integer(p, "parallel", 1, 64) : null;
            JsonElement defaults = root.TryGetProperty("defaults", out JsonElement d) ? d : default;
            if (defaults.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Object))
                throw Error("\"defaults\" must be an object of account settings");
            if (!root.TryGetProperty("accounts", out JsonElement accounts) || accounts.ValueKind != JsonValueKind.Array || accounts.GetArrayLength() == 0)
                throw Error("\"accounts\" must be a non-empty array");

            var result = new List<AccountSettings>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            int index = 0;
            foreach (JsonElement account in accounts.EnumerateArray())
            {
                index++;
                if (account.ValueKind != JsonValueKind.Object)
                    throw Error($"account #{index} must be an object");
                var fields = new Fields(defaults, account);
                string name = fields.Get("name") is { } n ? String(n, "name") : $"account #{index}";
                foreach (JsonElement part in new[] { defaults, account })
                {
                    if (part.ValueKind != JsonValueKind.Object)
                        continue;
                    foreach (JsonProperty property in part.EnumerateObject())
                    {
                        if (!AccountFields.Contains(property.Name))
                            throw Error($"{name}: unknown setting \"{property.Name}\"");
                    }
                }

                if (fields.Get("enabled") is { } enabled && !Boolean(enabled, "enabled"))
                    continue;
                if (!names.Add(name))
                    throw Error($"two accounts are called \"{name}\"");
                result.Add(Account(name, fields));
            }

            if (result.Count == 0)
                throw Error("every account is disabled");
            // One mailbox, one state and one lock: two accounts for it would fight over both.
            foreach (IGrouping<AccountKey, AccountSettings> same in result.GroupBy(a => a.Key).Where(g => g.Count() > 1))
                throw Error($"the accounts {string.Join(" and ", same.Select(a => $"\"{a.Name}\""))} fetch the same mailbox ({same.Key}); keep one");
            return new FetchConfig(state, parallel, result);
        }

        private AccountSettings Account(string name, Fields fields)
        {
            string Where(string field) => $"{name}: \"{field}\"";
            string host = fields.Get("host") is { } h ? String(h, Where("host")) : throw Error($"{name}: \"host\" is missing");
            string security = fields.Get("security") is { } sec ? String(sec, Where("security")).ToLowerInvariant() : "tls";
            if (security is not ("tls" or "starttls" or "none"))
                throw Error($"{Where("security")} must be tls, starttls or none, not \"{security}\"");
            int port = fields.Get("port") is { } pt ? Integer(pt, Where("port"), 1, 65535) : security == "tls" ? Pop3ClientOptions.DefaultSslPort : Pop3ClientOptions.DefaultPort;
            string user = fields.Get("user") is { } u ? String(u, Where("user")) : throw Error($"{name}: \"user\" is missing");
            double timeout = fields.Get("timeout") is { } t ? Integer(t, Where("timeout"), 1, 86400) : 60;

            var connection = new ConnectionSettings(
                Host: host,
                Port: port,
                ImplicitTls: security == "tls",
                StartTls: security == "starttls",
                User: user,
                PasswordEnv: null,
                PasswordFile: null,
                Auth: fields.Get("auth") is { } a ? String(a, Where("auth")) : null,
                CaFile: fields.Get("caFile") is { } ca ? TrustedFile(ResolvePath(String(ca, Where("caFile"))), $"{name}: the CA file") : null,
                InsecureSkipVerify: fields.Get("insecureSkipVerify") is { } isv && Boolean(isv, Where("insecureSkipVerify")),
                AllowInsecureAuth: fields.Get("allowInsecureAuth") is { } aia && Boolean(aia, Where("allowInsecureAuth")),
                Timeout: TimeSpan.FromSeconds(timeout),
                DebugLevel: debugLevel);

            connection = connection with { Pins = Pins(fields.Get("tlsFingerprints"), Where("tlsFingerprints")) };
            if (fields.GetOwn("oauth2") is { } oauthBlock)
            {
                if (!connection.UsesAccessToken)
                    throw Error($"{name}: \"oauth2\" needs \"auth\": \"xoauth2\" or \"oauthbearer\"");
                if (fields.Get("password") is not null)
                    throw Error($"{name}: give \"oauth2\" (a stored sign-in) or \"password\" (an access token from elsewhere), not both");
                return new AccountSettings(name, connection, () => "", Destination(name, fields), Policy(name, fields))
                {
                    OAuth = OAuth(name, oauthBlock),
                    SignInKey = name,
                    ConfigPath = file,
                    Interval = fields.Get("interval") is { } interval ? Duration(interval, Where("interval")) : null,
                };
            }

            SecretSource secret = Secret(name, fields.Get("password"));
            if (connection.UsesAccessToken && secret is SecretSource.Command command)
            {
                // A token command runs for every login (and again after a refusal), never once at start.
                return new AccountSettings(name, connection, () => "", Destination(name, fields), Policy(name, fields))
                {
                    AccessTokenCommand = command,
                    Interval = fields.Get("interval") is { } often ? Duration(often, Where("interval")) : null,
                };
            }

            return new AccountSettings(name, connection, () => secret.Read(console), Destination(name, fields), Policy(name, fields))
            {
                PasswordVariable = (secret as SecretSource.Environment)?.Variable,
                Interval = fields.Get("interval") is { } every ? Duration(every, Where("interval")) : null,
            };
        }

        private OAuthSettings OAuth(string name, JsonElement block)
        {
            string Where(string field) => $"{name}: \"oauth2.{field}\"";
            if (block.ValueKind != JsonValueKind.Object)
                throw Error($"{name}: \"oauth2\" must be an object such as {{\"provider\": \"microsoft\", \"clientId\": \"…\"}}");
            foreach (JsonProperty property in block.EnumerateObject())
            {
                if (!OAuthFields.Contains(property.Name))
                    throw Error($"{name}: unknown field \"oauth2.{property.Name}\" ({string.Join(", ", OAuthFields)})");
            }

            string? Text(string field) => block.TryGetProperty(field, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? String(value, Where(field)) : null;
            Uri? Url(string field) => Text(field) is { } text
                ? Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) ? uri : throw Error($"{Where(field)} is not a URL")
                : null;
            string provider = Text("provider") ?? throw Error($"{name}: \"oauth2.provider\" is missing ({OAuthSettings.ProviderNames})");
            var settings = new OAuthSettings(provider, Text("clientId") ?? throw Error($"{name}: \"oauth2.clientId\" is missing"))
            {
                Tenant = Text("tenant"),
                ClientSecretEnv = Text("clientSecretEnv") is { } variable ? Remember(variable) : null,
                TokenEndpoint = Url("tokenEndpoint"),
                AuthorizationEndpoint = Url("authorizationEndpoint"),
                DeviceAuthorizationEndpoint = Url("deviceAuthorizationEndpoint"),
                Scopes = block.TryGetProperty("scopes", out JsonElement scopes) && scopes.ValueKind == JsonValueKind.Array
                    ? [.. scopes.EnumerateArray().Select(s => String(s, Where("scopes")))]
                    : Text("scopes")?.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            };
            try
            {
                settings.ToProvider();
            }
            catch (CliException e)
            {
                throw Error($"{name}: \"oauth2\": {e.Message}");
            }

            return settings;
        }

        private SecretSource Secret(string name, JsonElement? value)
        {
            switch (value)
            {
                case null:
                    return new SecretSource.Prompt();
                case { ValueKind: JsonValueKind.String } inline:
                    if (!privateFile)
                    {
                        throw Error($"{name}: the password is written in the config, but {file} can be read by other users; " +
                            $"run 'chmod 600 {file}' or use {{\"env\": …}}, {{\"file\": …}} or {{\"command\": …}}");
                    }

                    return new SecretSource.Inline(inline.GetString()!);
                case { ValueKind: JsonValueKind.Object } source:
                    var properties = source.EnumerateObject().ToList();
                    if (properties.Count != 1)
                        throw Error($"{name}: \"password\" must have exactly one of env, file, command");
                    JsonProperty only = properties[0];
                    string text = String(only.Value, $"{name}: \"password.{only.Name}\"");
                    return only.Name switch
                    {
                        "env" => new SecretSource.Environment(Remember(text)),
                        "file" => new SecretSource.File(ResolvePath(text)),
                        "command" => new SecretSource.Command(text, _secretVariables),
                        _ => throw Error($"{name}: \"password\" takes env, file or command, not \"{only.Name}\""),
                    };
                default:
                    throw Error($"{name}: \"password\" must be an object such as {{\"env\": \"VAR\"}} (or a string, in a file only you can read)");
            }
        }

        private FetchDestination Destination(string name, Fields fields)
        {
            // The account's own destination replaces one given in "defaults".
            var given = DestinationFields.Where(k => fields.GetOwn(k) is not null).ToList();
            if (given.Count == 0)
                given = [.. DestinationFields.Where(k => fields.Get(k) is not null)];
            if (given.Count != 1)
                throw Error($"{name}: give exactly one destination: \"maildir\", \"mbox\", \"mda\" or \"lmtp\"");
            if (fields.GetOwn("lmtpRecipients") is not null && given[0] != "lmtp")
                throw Error($"{name}: \"lmtpRecipients\" needs \"lmtp\" (the LMTP server to deliver to)");
            string target = String(fields.Get(given[0])!.Value, $"{name}: \"{given[0]}\"");
            if (given[0] == "lmtp")
                return Lmtp(name, target, fields.Get("lmtpRecipients"));
            DestinationKind kind = given[0] switch
            {
                "maildir" => DestinationKind.Maildir,
                "mbox" => DestinationKind.Mbox,
                _ => DestinationKind.Mda,
            };
            if (kind != DestinationKind.Mda)
                target = string.IsNullOrWhiteSpace(target) ? target : ResolvePath(target);
            return FetchDestination.Problem(kind, target) is { } problem
                ? throw Error($"{name}: \"{given[0]}\" {problem}")
                : kind switch
                {
                    DestinationKind.Maildir => FetchDestination.Maildir(target),
                    DestinationKind.Mbox => FetchDestination.Mbox(target),
                    _ => FetchDestination.Command(target),
                };
        }

        // "tlsFingerprints": an array of pins (or one pin as a string), read now so that a mistyped one is the config's mistake.
        private CertificatePin[] Pins(JsonElement? value, string where)
        {
            string[] texts = value switch
            {
                null => [],
                { ValueKind: JsonValueKind.Array } list => [.. list.EnumerateArray().Select(p => String(p, where))],
                { } one => [String(one, where)],
            };
            try
            {
                return [.. texts.Select(CertificatePin.Parse)];
            }
            catch (FormatException e)
            {
                throw Error($"{where}: {e.Message}");
            }
        }

        // "lmtpRecipients": an array of addresses (or one address as a string).
        private FetchDestination Lmtp(string name, string endpoint, JsonElement? value)
        {
            string where = $"{name}: \"lmtpRecipients\"";
            string[] recipients = value switch
            {
                null => [],
                { ValueKind: JsonValueKind.Array } list => [.. list.EnumerateArray().Select(r => String(r, where))],
                { } one => [String(one, where)],
            };
            return FetchDestination.LmtpProblem(endpoint, recipients) is { } problem
                ? throw Error($"{name}: \"lmtp\" {problem}")
                : FetchDestination.Lmtp(endpoint, recipients);
        }

        private FetchPolicy Policy(string name, Fields fields)
        {
            string Where(string field) => $"{name}: \"{field}\"";
            string policy = fields.Get("policy") is { } p ? String(p, Where("policy")) : "keep";
            if (policy is not ("keep" or "delete"))
                throw Error($"{Where("policy")} must be keep or delete, not \"{policy}\"");
            long? maxSize = null;
            if (fields.Get("maxSize") is { } m)
            {
                maxSize = m.ValueKind == JsonValueKind.Number && m.TryGetInt64(out long n) && n > 0 ? n
                    : m.ValueKind == JsonValueKind.String && SizeParser.TryParse(m.GetString()!, out long parsed) ? parsed
                    : throw Error($"{Where("maxSize")} must be a size such as 10485760 or \"10M\"");
            }

            var defaults = new FetchPolicy();
            return defaults with
            {
                Delete = policy == "delete",
                MaxSize = maxSize,
                Oversize = fields.Get("oversize") is { } o ? Choice<OversizeAction>(o, Where("oversize")) : defaults.Oversize,
                Limit = fields.Get("limit") is { } l ? Integer(l, Where("limit"), 1, int.MaxValue) : defaults.Limit,
                OnUidlReset = fields.Get("onUidlReset") is { } r ? Choice<UidlResetAction>(r, Where("onUidlReset")) : defaults.OnUidlReset,
                BatchSize = fields.Get("batch") is { } b ? Integer(b, Where("batch"), 1, 100_000) : defaults.BatchSize,
                MaxRunTime = fields.Get("maxRunTime") is { } t ? Duration(t, Where("maxRunTime")) : defaults.MaxRunTime,
            };
        }

        private TimeSpan Duration(JsonElement value, string where) =>
            value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int seconds) && seconds is > 0 and <= 7 * 24 * 3600 ? TimeSpan.FromSeconds(seconds)
            : value.ValueKind == JsonValueKind.String && DurationParser.TryParse(value.GetString()!, out TimeSpan parsed) ? parsed
            : throw Error($"{where} must be a duration such as 1800, \"90s\", \"30m\" or \"2h\" (at most a week)");

        private T Choice<T>(JsonElement value, string where)
            where T : struct, Enum
        {
            string text = String(value, where);
            return EnumNames.TryParse(text, out T parsed) ? parsed : throw Error($"{where} must be one of {string.Join(", ", EnumNames.All<T>())}, not \"{text}\"");
        }

        private string Remember(string secretVariable)
        {
            _secretVariables.Add(secretVariable);
            return secretVariable;
        }

        /// <summary>A file that decides whom to trust must be as safe from other users as the config itself.</summary>
        private static string TrustedFile(string path, string what)
        {
            StrictModes.RequireTrustedFile(path, what, FetchFailure.Configuration);
            return path;
        }

        private string ResolvePath(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(ExpandHome(path), _folder));

        private string String(JsonElement value, string where) =>
            value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : throw Error($"{where} must be a non-empty string");

        private bool Boolean(JsonElement value, string where) =>
            value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : throw Error($"{where} must be true or false");

        private int Integer(JsonElement value, string where, int min, int max) =>
            value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) && n >= min && n <= max
                ? n
                : throw Error(string.Create(CultureInfo.InvariantCulture, $"{where} must be a whole number from {min} to {max}"));

        private CliException Error(string message) => new(ExitCodes.Config, $"{file}: {message}");
    }

    /// <summary>An account's settings over the defaults': the account's own value wins.</summary>
    private readonly struct Fields(JsonElement defaults, JsonElement account)
    {
        public JsonElement? Get(string name) =>
            GetOwn(name) ?? (defaults.ValueKind == JsonValueKind.Object && defaults.TryGetProperty(name, out JsonElement d) && d.ValueKind != JsonValueKind.Null ? d : null);

        public JsonElement? GetOwn(string name) =>
            account.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : null;
    }
}
