using Poplib.Fetch;
using Poplib.Fetch.OAuth;

namespace Poplib.Tests.OAuth;

/// <summary>OAuth2TokenStore: private files, whole replacements, no link followed, nothing secret shown.</summary>
public sealed class TokenStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("poplib-store-").FullName;

    private static OAuth2Grant Grant(string refresh = "rt-s3cret") => new()
    {
        Provider = "microsoft",
        ClientId = "00000000-aaaa",
        Tenant = "common",
        ClientSecret = "cs-s3cret",
        TokenEndpoint = new Uri("https://login.microsoftonline.com/common/oauth2/v2.0/token"),
        Scopes = ["https://outlook.office.com/POP.AccessAsUser.All", "offline_access"],
        User = "alice@contoso.com",
        RefreshToken = refresh,
        AccessToken = "at-s3cret",
        AccessTokenExpires = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero),
        Obtained = new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero),
    };

    [Fact]
    public void Saves_private_files_in_a_private_folder_and_reads_them_back()
    {
        var store = new OAuth2TokenStore(Path.Combine(_directory, "a", "oauth"));
        store.Save("work/mail", Grant());
        store.Save("alice@outlook.office365.com", Grant("rt-other"));

        Assert.Equivalent(Grant(), store.Load("work/mail"), strict: true);
        Assert.Equal(["alice@outlook.office365.com", "work/mail"], store.List().Select(g => g.Account).Order(StringComparer.Ordinal));
        Assert.Null(store.Load("nobody"));
        Assert.Equal(Path.Combine(store.Directory, "work%2Fmail.json"), store.PathOf("work/mail"));
        Assert.Single(Directory.GetFiles(store.Directory), f => f.EndsWith("work%2Fmail.json", StringComparison.Ordinal));
        Assert.DoesNotContain(Directory.GetFiles(store.Directory), f => f.EndsWith(".tmp", StringComparison.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.PathOf("work/mail")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(store.Directory));
        }

        Assert.True(store.Delete("work/mail"));
        Assert.False(store.Delete("work/mail"));
        Assert.Null(store.Load("work/mail"));
    }

    [Fact]
    public void A_planted_link_or_a_file_others_can_read_is_refused()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var store = new OAuth2TokenStore(Path.Combine(_directory, "oauth"));
        store.Save("real", Grant());
        File.CreateSymbolicLink(store.PathOf("planted"), store.PathOf("real"));
        var link = Assert.Throws<FetchException>(() => store.Load("planted"));
        Assert.Contains("symbolic link", link.Message, StringComparison.Ordinal);

        File.SetUnixFileMode(store.PathOf("real"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Assert.Throws<FetchException>(() => store.Load("real"));
    }

    [Fact]
    public void A_torn_or_foreign_file_is_a_clear_error_without_its_content()
    {
        var store = new OAuth2TokenStore(Path.Combine(_directory, "oauth"));
        store.Save("x", Grant());
        File.WriteAllText(store.PathOf("x"), "{\"refreshToken\": \"rt-s3cret\", ");
        var error = Assert.Throws<FetchException>(() => store.Load("x"));
        Assert.Equal(FetchFailure.State, error.Failure);
        Assert.DoesNotContain("s3cret", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_secret_in_ToString()
    {
        string text = Grant().ToString();
        Assert.DoesNotContain("s3cret", text, StringComparison.Ordinal);
        Assert.Contains("alice@contoso.com", text, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", new RefreshingOAuth2TokenSource(new OAuth2TokenStore(_directory), "a").ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
