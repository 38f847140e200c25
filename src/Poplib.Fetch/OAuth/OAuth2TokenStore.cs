using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Poplib.Fetch.OAuth;

/// <summary>
/// The sign-ins of this machine's user: one JSON file per account in a folder only the user can enter
/// (0700; files 0600). A file is replaced whole — written under another name, flushed to disk, renamed
/// over the old one, the folder flushed — so a crash or a kill at any moment leaves the old grant or the
/// new one, never a torn file. No symbolic link is followed when a grant is read. The default folder is
/// <c>$XDG_STATE_HOME/poplib/oauth</c> (<c>~/.local/state/poplib/oauth</c>), beside <c>fetch</c>'s state.
/// </summary>
public sealed class OAuth2TokenStore
{
    private const string Extension = ".json";
    private const int MaxFileBytes = 256 * 1024; // a grant is a few kilobytes; more is not ours
    private const uint GroupOrOtherAccess = 0x3F; // 0077

    /// <summary>Uses <paramref name="directory"/> (created 0700 when first written to).</summary>
    public OAuth2TokenStore(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>The folder the grants are in.</summary>
    public string Directory { get; }

    /// <summary><c>$XDG_STATE_HOME/poplib/oauth</c>, else <c>~/.local/state/poplib/oauth</c>.</summary>
    public static string DefaultDirectory => Path.Combine(Path.GetDirectoryName(SqliteFetchStateStore.DefaultPath)!, "oauth");

    /// <summary>The file of <paramref name="account"/> (which need not exist).</summary>
    public string PathOf(string account) => Path.Combine(Directory, FileNameOf(account) + Extension);

    /// <summary>The account's grant, or null when it has none.</summary>
    /// <exception cref="FetchException">The file is not the user's own plain file, or not a grant (<see cref="FetchFailure.State"/>).</exception>
    public OAuth2Grant? Load(string account)
    {
        string path = PathOf(account);
        byte[]? content = ReadPrivate(path);
        return content is null ? null : Parse(content, path).Grant;
    }

    /// <summary>Every account with a grant, by name.</summary>
    public IReadOnlyList<(string Account, OAuth2Grant Grant)> List()
    {
        if (!System.IO.Directory.Exists(Directory))
            return [];
        var grants = new List<(string, OAuth2Grant)>();
        foreach (string path in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension).Order(StringComparer.Ordinal))
        {
            if (ReadPrivate(path) is { } content)
                grants.Add(Parse(content, path));
        }

        return grants;
    }

    /// <summary>Replaces the account's grant atomically and durably.</summary>
    public void Save(string account, OAuth2Grant grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        StrictModes.RequirePrivateDirectory(Directory, "the OAuth token folder");
        string path = PathOf(account);
        string temporary = path + string.Create(CultureInfo.InvariantCulture, $".{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        try
        {
            using (FileStream file = PrivateFiles.CreateNew(temporary, FileAccess.Write))
            {
                file.Write(Serialize(account, grant));
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
            Durability.SyncDirectory(Directory);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Forgets the account's grant; false when it had none.</summary>
    public bool Delete(string account)
    {
        string path = PathOf(account);
        if (!File.Exists(path))
            return false;
        File.Delete(path);
        Durability.SyncDirectory(Directory);
        return true;
    }

    /// <summary>A lock file path for the account, held while its refresh token is used (see <see cref="PrivateFiles.OpenLock"/>).</summary>
    internal string LockPathOf(string account) => Path.Combine(Directory, FileNameOf(account) + ".lock");

    // Names are the user's (a config account, user@host): kept readable, anything a file name
    // could misread (a slash, a dot at the start, a control character) percent-escaped.
    internal static string FileNameOf(string account)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(account);
        var name = new StringBuilder();
        for (int i = 0; i < account.Length; i++)
        {
            char c = account[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '@' or '-' or '_' || (c == '.' && i > 0))
                name.Append(c);
            else
                foreach (byte b in Encoding.UTF8.GetBytes(c.ToString()))
                    name.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
        }

        return name.ToString();
    }

    // O_NOFOLLOW and a check of the open file: a link planted in the folder is never read through.
    private static byte[]? ReadPrivate(string path)
    {
        if (!OperatingSystem.IsLinux())
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        int fd = UnixNative.Open(path, UnixNative.ReadOnly | UnixNative.NoFollow | UnixNative.CloseOnExec, 0);
        if (fd < 0)
        {
            int error = UnixNative.LastError;
            if (error == 2) // ENOENT
                return null;
            throw new FetchException(FetchFailure.State, error == UnixNative.ErrorLoop
                ? $"the token file {path} is a symbolic link, which poplib never creates: someone else may have planted it; remove it and sign in again"
                : $"cannot read the token file {path}: {UnixNative.Describe(error)}");
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (UnixNative.Status(handle) is not { } status || !StrictModes.IsOurOwnPlainFile(status) || (status.Permissions & GroupOrOtherAccess) != 0)
            throw new FetchException(FetchFailure.State, $"the token file {path} is not a plain file of yours that only you can read: remove it and sign in again");
        using var file = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        if (file.Length > MaxFileBytes)
            throw new FetchException(FetchFailure.State, $"the token file {path} is over {MaxFileBytes} bytes: not a grant poplib wrote");
        byte[] content = new byte[file.Length];
        file.ReadExactly(content);
        return content;
    }

    private static byte[] Serialize(string account, OAuth2Grant grant)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("version", 1);
            json.WriteString("account", account);
            json.WriteString("provider", grant.Provider);
            json.WriteString("clientId", grant.ClientId);
            if (grant.ClientSecret is not null)
                json.WriteString("clientSecret", grant.ClientSecret);
            if (grant.Tenant is not null)
                json.WriteString("tenant", grant.Tenant);
            json.WriteString("tokenEndpoint", grant.TokenEndpoint.AbsoluteUri);
            json.WriteStartArray("scopes");
            foreach (string scope in grant.Scopes)
                json.WriteStringValue(scope);
            json.WriteEndArray();
            if (grant.User is not null)
                json.WriteString("user", grant.User);
            json.WriteString("refreshToken", grant.RefreshToken);
            if (grant.AccessToken is not null && grant.AccessTokenExpires is { } expires)
            {
                json.WriteString("accessToken", grant.AccessToken);
                json.WriteString("accessTokenExpires", expires);
            }

            json.WriteString("obtained", grant.Obtained);
            if (grant.Refreshed is { } refreshed)
                json.WriteString("refreshed", refreshed);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static (string Account, OAuth2Grant Grant) Parse(byte[] content, string path)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(content);
            JsonElement root = document.RootElement;
            return (Required(root, "account"), new OAuth2Grant
            {
                Provider = Required(root, "provider"),
                ClientId = Required(root, "clientId"),
                ClientSecret = Optional(root, "clientSecret"),
                Tenant = Optional(root, "tenant"),
                TokenEndpoint = new Uri(Required(root, "tokenEndpoint"), UriKind.Absolute),
                Scopes = [.. root.GetProperty("scopes").EnumerateArray().Select(s => s.GetString() ?? throw new FormatException("a scope is null"))],
                User = Optional(root, "user"),
                RefreshToken = Required(root, "refreshToken"),
                AccessToken = Optional(root, "accessToken"),
                AccessTokenExpires = root.TryGetProperty("accessTokenExpires", out JsonElement expires) ? expires.GetDateTimeOffset() : null,
                Obtained = root.GetProperty("obtained").GetDateTimeOffset(),
                Refreshed = root.TryGetProperty("refreshed", out JsonElement refreshed) ? refreshed.GetDateTimeOffset() : null,
            });
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException or UriFormatException)
        {
            throw new FetchException(FetchFailure.State, $"the token file {path} is not a grant poplib can read ({e.GetType().Name}): remove it and sign in again", e);
        }
    }

    private static string Required(JsonElement root, string name) =>
        root.GetProperty(name).GetString() is { Length: > 0 } value ? value : throw new FormatException($"'{name}' is empty");

    private static string? Optional(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) ? value.GetString() : null;
}
