using System.Text.Json;
using Poplib.Cli;
using Poplib.Fetch.OAuth;
using Poplib.Testing;
using Poplib.Testing.OAuth;
using Poplib.Tests.Cli;
using Poplib.Tests.Cli.Fetch;

namespace Poplib.Tests.OAuth;

/// <summary>
/// Sign-in to fetch, end to end: <c>poplib oauth login</c> against the in-process OAuth 2.0 server,
/// <c>poplib fetch --config</c> logging in with XOAUTH2 to a Microsoft 365-like POP3 server that checks
/// the token with that authorization server, a token refused mid-life, a revoked sign-in. The tests of
/// this class set POPLIB_OAUTH_DIR (for the fetches), so they run one after the other.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class OAuthEndToEndTests : IAsyncLifetime
{
    private const string ClientId = "poplib-e2e";
    private const string Mailbox = "alice@contoso.com";

    private readonly string _folder = Directory.CreateTempSubdirectory("poplib-oauth-e2e-").FullName;
    private OAuth2TestServer _oauth = null!;
    private Pop3TestServer _pop3 = null!;
    private Pop3TestServer _other = null!;

    private string TokenDir => Path.Combine(_folder, "tokens");

    public async Task InitializeAsync()
    {
        _oauth = OAuth2TestServer.Start(new OAuth2TestServerOptions { DevicePollingInterval = TimeSpan.FromSeconds(1) });
        _oauth.RegisterClient(ClientId);
        _oauth.AddUser(Mailbox);
        _oauth.SignedInUser = Mailbox;
        _oauth.AutoApproveDeviceAfter = TimeSpan.Zero;
        _oauth.AccessTokenLength = 1200; // as long as Microsoft's: too long for an initial response

        Pop3TestServerOptions microsoft = Pop3ServerProfiles.Microsoft365();
        microsoft.Tls = Pop3TlsMode.None;
        microsoft.AccessTokenValidator = _oauth.ValidateAccessToken;
        _pop3 = await Pop3TestServer.StartAsync(microsoft);
        _pop3.AddUser(Mailbox, "no-password-works-here", Pop3Mailbox.FromMessages([FetchWorld.Message(1), FetchWorld.Message(2)]));
        _other = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.None });
        _other.AddUser("bob", "bob-secret", Pop3Mailbox.FromMessages([FetchWorld.Message(3)]));
        Environment.SetEnvironmentVariable("POPLIB_OAUTH_E2E_BOB", "bob-secret");
        Environment.SetEnvironmentVariable("POPLIB_OAUTH_DIR", TokenDir);
    }

    private string Config(int? port = null) => FetchConfigTests.Write(_folder, $$"""
        {
          "state": "state/fetch.sqlite",
          "defaults": { "security": "none", "allowInsecureAuth": true, "policy": "keep" },
          "accounts": [
            {
              "name": "work", "host": "127.0.0.1", "port": {{port ?? _pop3.Port}}, "user": "{{Mailbox}}", "maildir": "work",
              "auth": "xoauth2",
              "oauth2": {
                "provider": "custom", "clientId": "{{ClientId}}",
                "tokenEndpoint": "{{_oauth.TokenEndpoint}}", "deviceAuthorizationEndpoint": "{{_oauth.DeviceAuthorizationEndpoint}}",
                "scopes": ["https://outlook.office.com/POP.AccessAsUser.All", "offline_access"]
              }
            },
            { "name": "home", "host": "127.0.0.1", "port": {{_other.Port}}, "user": "bob", "auth": "user", "password": { "env": "POPLIB_OAUTH_E2E_BOB" }, "maildir": "home" }
          ]
        }
        """);

    [Fact]
    public async Task Device_sign_in_then_fetch_then_a_refused_token_is_refreshed_then_a_revoked_sign_in_fails_alone()
    {
        string config = Config();

        // Sign in: the device flow, approved at once by the test server's "user".
        CliRunner.Outcome login = await CliRunner.RunAsync("oauth", "login", "--config", config, "--account", "work", "--token-dir", TokenDir);
        Assert.True(login.ExitCode == 0, login.Error);
        Assert.Contains("enter the code", login.Out, StringComparison.Ordinal);
        var store = new OAuth2TokenStore(TokenDir);
        OAuth2Grant grant = store.Load("work")!;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.PathOf("work")));
        Assert.Equal(Mailbox, grant.User);

        // Fetch: XOAUTH2 in two steps (the token is too long for the AUTH line), both accounts.
        CliRunner.Outcome first = await CliRunner.RunAsync("fetch", "--config", config, "--json");
        Assert.True(first.ExitCode == 0, first.Error + first.Out);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(_folder, "work", "new")).Length);
        Assert.Single(Directory.GetFiles(Path.Combine(_folder, "home", "new")));
        int refreshes = _oauth.RequestCount(OAuth2Endpoint.Token);

        // The access token is refused before its time (revoked, or a clock ahead): refreshed once, login retried.
        _oauth.RevokeAccessTokens(Mailbox);
        CliRunner.Outcome second = await CliRunner.RunAsync("fetch", "--config", config, "--account", "work", "--json");
        Assert.True(second.ExitCode == 0, second.Error + second.Out);
        Assert.Equal(refreshes + 1, _oauth.RequestCount(OAuth2Endpoint.Token));
        OAuth2Grant refreshed = store.Load("work")!;
        Assert.NotEqual(grant.RefreshToken, refreshed.RefreshToken); // rotated, and written down
        Assert.NotNull(refreshed.Refreshed);

        // The sign-in is revoked: this account fails with the authentication code and says what to do; the other goes on.
        _oauth.RevokeRefreshTokens(Mailbox);
        _oauth.RevokeAccessTokens(Mailbox);
        CliRunner.Outcome third = await CliRunner.RunAsync("fetch", "--config", config, "--json");
        Assert.Equal(ExitCodes.SomeAccountsFailed, third.ExitCode);
        using JsonDocument json = JsonDocument.Parse(third.Out);
        JsonElement[] accounts = [.. json.RootElement.GetProperty("accounts").EnumerateArray()];
        JsonElement work = accounts.Single(a => a.GetProperty("name").GetString() == "work");
        Assert.Equal("failed", work.GetProperty("status").GetString());
        Assert.Equal(ExitCodes.Authentication, work.GetProperty("exitCode").GetInt32());
        Assert.Contains($"poplib oauth login --config {config} --account work", work.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("ok", accounts.Single(a => a.GetProperty("name").GetString() == "home").GetProperty("status").GetString());

        // Status shows the account and no secret; nothing printed anywhere holds a token.
        CliRunner.Outcome status = await CliRunner.RunAsync("oauth", "status", "--json", "--token-dir", TokenDir);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("\"account\": \"work\"", status.Out, StringComparison.Ordinal);
        OAuth2Grant last = store.Load("work")!;
        foreach (CliRunner.Outcome outcome in new[] { login, first, second, third, status })
        {
            foreach (string secret in new[] { grant.RefreshToken, refreshed.RefreshToken, last.RefreshToken, grant.AccessToken!, refreshed.AccessToken! })
            {
                Assert.DoesNotContain(secret, outcome.Out, StringComparison.Ordinal);
                Assert.DoesNotContain(secret, outcome.Error, StringComparison.Ordinal);
            }
        }

        CliRunner.Outcome logout = await CliRunner.RunAsync("oauth", "logout", "work", "--token-dir", TokenDir);
        Assert.Equal(0, logout.ExitCode);
        Assert.Null(store.Load("work"));
    }

    // SIGKILL after the token endpoint answered, while the POP3 login is going on: the rotated refresh token is on disk
    // before the access token is used, so the next fetch goes on with it (the old one was retired by the server).
    [Fact]
    public async Task A_fetch_killed_after_a_refresh_has_the_rotated_token_on_disk_and_the_next_fetch_goes_on()
    {
        Pop3TestServerOptions slowOptions = Pop3ServerProfiles.Microsoft365();
        slowOptions.Tls = Pop3TlsMode.None;
        slowOptions.AccessTokenValidator = _oauth.ValidateAccessToken;
        slowOptions.Faults = [.. slowOptions.Faults, new DelayReplies(TimeSpan.FromMilliseconds(700))];
        await using Pop3TestServer slow = await Pop3TestServer.StartAsync(slowOptions);
        slow.AddUser(Mailbox, "unused", Pop3Mailbox.FromMessages([FetchWorld.Message(7)]));
        string config = Config(slow.Port);
        Assert.Equal(0, (await CliRunner.RunAsync("oauth", "login", "--config", config, "--account", "work", "--token-dir", TokenDir)).ExitCode);
        var store = new OAuth2TokenStore(TokenDir);

        // Killed after the refreshed tokens were written, while the POP3 login was still going on.
        string signedIn = store.Load("work")!.RefreshToken;
        _oauth.RevokeAccessTokens(Mailbox); // the cached access token is refused: the fetch must refresh
        await KillFetchWhenAsync(config, () => store.Load("work")!.RefreshToken != signedIn);
        string written = store.Load("work")!.RefreshToken;
        Assert.NotEqual(signedIn, written);
        CliRunner.Outcome afterWrite = await CliRunner.RunAsync("fetch", "--config", config, "--account", "work", "--json");
        Assert.True(afterWrite.ExitCode == 0, afterWrite.Error + afterWrite.Out);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.PathOf("work")));
        Assert.DoesNotContain(Directory.GetFiles(TokenDir), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    // The other side of that window: SIGKILL after the token endpoint rotated the refresh token but before its answer
    // arrived (so before anything was written). The file still holds the old refresh token, whole; a server that
    // retires used refresh tokens (this one, RFC 9700 section 4.14.2) then refuses it, and only a new sign-in helps.
    [Fact]
    public async Task A_fetch_killed_before_the_rotated_token_arrived_leaves_the_old_one_whole_and_asks_for_a_new_sign_in()
    {
        string config = Config();
        Assert.Equal(0, (await CliRunner.RunAsync("oauth", "login", "--config", config, "--account", "work", "--token-dir", TokenDir)).ExitCode);
        var store = new OAuth2TokenStore(TokenDir);
        string signedIn = store.Load("work")!.RefreshToken;
        byte[] before = File.ReadAllBytes(store.PathOf("work"));

        _oauth.RevokeAccessTokens(Mailbox); // the fetch must refresh
        _oauth.InjectFault(OAuth2Endpoint.Token, OAuth2Fault.DelayBeforeHeaders(TimeSpan.FromSeconds(20)), times: 1);
        int asked = _oauth.RequestCount(OAuth2Endpoint.Token);
        // The test server rotates as it reads the request, then holds its answer back.
        await KillFetchWhenAsync(config, () => _oauth.RequestCount(OAuth2Endpoint.Token) > asked, settle: TimeSpan.FromMilliseconds(500));

        Assert.Equal(before, File.ReadAllBytes(store.PathOf("work"))); // untouched: the old refresh token, whole
        Assert.Equal(signedIn, store.Load("work")!.RefreshToken);
        Assert.DoesNotContain(Directory.GetFiles(TokenDir), f => f.EndsWith(".tmp", StringComparison.Ordinal));

        CliRunner.Outcome next = await CliRunner.RunAsync("fetch", "--config", config, "--account", "work", "--json");
        Assert.Equal(ExitCodes.Authentication, next.ExitCode);
        Assert.Contains($"poplib oauth login --config {config} --account work", next.Out + next.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(signedIn, next.Out + next.Error, StringComparison.Ordinal);

        // Signing in again is the way out.
        Assert.Equal(0, (await CliRunner.RunAsync("oauth", "login", "--config", config, "--account", "work", "--token-dir", TokenDir)).ExitCode);
        CliRunner.Outcome after = await CliRunner.RunAsync("fetch", "--config", config, "--account", "work", "--json");
        Assert.True(after.ExitCode == 0, after.Error + after.Out);
    }

    // Runs 'poplib fetch' as a process of its own and kills it with SIGKILL once the condition holds.
    private async Task KillFetchWhenAsync(string config, Func<bool> condition, TimeSpan settle = default)
    {
        var start = new System.Diagnostics.ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Poplib.Cli"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "fetch", "--config", config, "--account", "work" })
            start.ArgumentList.Add(argument);
        start.Environment["POPLIB_OAUTH_DIR"] = TokenDir;
        using var process = System.Diagnostics.Process.Start(start)!;
        for (int i = 0; i < 600 && !condition() && !process.HasExited; i++)
            await Task.Delay(25);
        await StillRunningAsync(process);
        Assert.True(condition(), "the moment to kill the fetch never came");
        await Task.Delay(settle);
        await StillRunningAsync(process);
        process.Kill(); // SIGKILL
        await process.WaitForExitAsync();
    }

    // Its output is read only once it has ended: reading it first would wait for the end.
    private static async Task StillRunningAsync(System.Diagnostics.Process process)
    {
        if (process.HasExited)
            Assert.Fail("the fetch ended before it could be killed: " + await process.StandardError.ReadToEndAsync());
    }

    // Issue 18's "sign in → fetch → token expires mid-daemon → refreshed → fetch goes on", with 'poplib fetch --daemon'
    // as a process of its own: its access token first runs out by the clock (refreshed before use, never refused),
    // then is revoked behind its back (refused, refreshed, the login retried); it fetches the new mail each time.
    [Fact]
    public async Task The_daemon_refreshes_an_expiring_then_a_revoked_token_and_fetches_on_without_a_restart()
    {
        var offered = new List<(string Token, bool Accepted)>();
        Pop3TestServerOptions options = Pop3ServerProfiles.Microsoft365();
        options.Tls = Pop3TlsMode.None;
        options.AccessTokenValidator = (user, token) =>
        {
            bool accepted = _oauth.ValidateAccessToken(user, token);
            lock (offered)
                offered.Add((token, accepted));
            return accepted;
        };
        await using Pop3TestServer pop3 = await Pop3TestServer.StartAsync(options);
        Pop3MemoryMailbox mailbox = Pop3Mailbox.FromMessages([FetchWorld.Message(1), FetchWorld.Message(2)]);
        pop3.AddUser(Mailbox, "unused", mailbox);
        (string Token, bool Accepted)[] Offered()
        {
            lock (offered)
                return [.. offered];
        }

        // RefreshingOAuth2TokenSource replaces a token 2 minutes before it expires: these are good for 4 seconds.
        _oauth.AccessTokenLifetime = TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(4);
        string config = Config(pop3.Port);
        Assert.Equal(0, (await CliRunner.RunAsync("oauth", "login", "--config", config, "--account", "work", "--token-dir", TokenDir)).ExitCode);
        var store = new OAuth2TokenStore(TokenDir);
        var refreshTokens = new List<string> { store.Load("work")!.RefreshToken };
        int Delivered() => Directory.Exists(Path.Combine(_folder, "work", "new")) ? Directory.GetFiles(Path.Combine(_folder, "work", "new")).Length : 0;
        int Refreshes() => _oauth.RequestCount(OAuth2Endpoint.Token);

        using System.Diagnostics.Process daemon = DaemonProcess.Start(["fetch", "--daemon", "--interval", "1s", "--config", config],
            new Dictionary<string, string> { ["POPLIB_OAUTH_DIR"] = TokenDir });
        Func<string> log = DaemonProcess.CaptureOutput(daemon);
        try
        {
            await DaemonProcess.Until(() => Delivered() == 2, "the first fetch", log);

            // Expiry by the clock: a refresh before the token runs out, the rotated refresh token written, new mail fetched.
            int beforeExpiry = Refreshes();
            string beforeRotation = store.Load("work")!.RefreshToken;
            await DaemonProcess.Until(() => Refreshes() > beforeExpiry && store.Load("work")!.RefreshToken != beforeRotation, "a refresh as the token expires", log);
            refreshTokens.Add(store.Load("work")!.RefreshToken);
            mailbox.Add(FetchWorld.Message(3));
            await DaemonProcess.Until(() => Delivered() == 3, "the mail that arrived after the refresh", log);
            Assert.DoesNotContain(Offered(), o => !o.Accepted); // refreshed in time: the server never saw a stale token

            // Revoked while the daemon holds a good-for-an-hour token: refused once, refreshed once, fetched.
            _oauth.AccessTokenLifetime = TimeSpan.FromHours(1);
            await DaemonProcess.Until(() => store.Load("work")!.AccessTokenExpires > DateTimeOffset.UtcNow.AddMinutes(30), "an hour-long token", log);
            string held = store.Load("work")!.AccessToken!;
            refreshTokens.Add(store.Load("work")!.RefreshToken);
            int beforeRevocation = Refreshes();
            _oauth.RevokeAccessTokens(Mailbox);
            mailbox.Add(FetchWorld.Message(4));
            await DaemonProcess.Until(() => Delivered() == 4, "the mail that arrived after the revocation", log);
            await Task.Delay(TimeSpan.FromSeconds(2.5)); // more runs: no further refresh, no refusal storm
            Assert.Equal(beforeRevocation + 1, Refreshes());
            Assert.Equal([held], Offered().Where(o => !o.Accepted).Select(o => o.Token)); // the one refusal: the revoked token, once
            OAuth2Grant last = store.Load("work")!;
            Assert.DoesNotContain(last.RefreshToken, refreshTokens); // rotated by the refresh after the revocation, and on disk
            refreshTokens.Add(last.RefreshToken);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.PathOf("work")));

            DaemonProcess.Signal(daemon, "TERM");
            Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(15)), "no exit 15 s after SIGTERM: " + log());
            Assert.Equal(0, daemon.ExitCode);
        }
        finally
        {
            if (!daemon.HasExited)
                daemon.Kill(entireProcessTree: true);
        }

        daemon.WaitForExit(); // the output read to its end
        string output = log();
        Assert.Contains("work", output, StringComparison.Ordinal);
        foreach (string secret in refreshTokens.Concat(Offered().Select(o => o.Token)))
            Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mail_commands_with_auth_xoauth2_use_the_sign_in_stored_for_user_at_host()
    {
        CliRunner.Outcome missing = await CliRunner.RunAsync("stat", "--host", "127.0.0.1", "--port", _pop3.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--user", Mailbox, "--auth", "xoauth2", "--allow-insecure-auth");
        Assert.Equal(ExitCodes.Authentication, missing.ExitCode);
        Assert.Contains("poplib oauth login", missing.Error, StringComparison.Ordinal);

        CliRunner.Outcome login = await CliRunner.RunAsync("oauth", "login", "--provider", "custom", "--client-id", ClientId,
            "--token-endpoint", _oauth.TokenEndpoint.AbsoluteUri, "--device-endpoint", _oauth.DeviceAuthorizationEndpoint.AbsoluteUri,
            "--scopes", "https://outlook.office.com/POP.AccessAsUser.All offline_access", "--user", Mailbox, "--host", "127.0.0.1", "--token-dir", TokenDir);
        Assert.True(login.ExitCode == 0, login.Error);
        Assert.NotNull(new OAuth2TokenStore(TokenDir).Load($"{Mailbox}@127.0.0.1"));

        CliRunner.Outcome stat = await CliRunner.RunAsync("stat", "--host", "127.0.0.1", "--port", _pop3.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--user", Mailbox, "--auth", "xoauth2", "--allow-insecure-auth", "--json");
        Assert.True(stat.ExitCode == 0, stat.Error);
        Assert.Contains("\"count\": 2", stat.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Browser_sign_in_with_pkce_through_the_loopback_redirect()
    {
        var provider = OAuth2Provider.Custom(_oauth.TokenEndpoint, ["https://mail.google.com/"], authorizationEndpoint: _oauth.AuthorizationEndpoint);
        using var signIn = new OAuth2SignIn(provider, ClientId, new OAuth2SignInOptions { User = Mailbox });
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        Uri? asked = null;

        OAuth2Grant grant = await signIn.SignInWithBrowserAsync(url =>
        {
            asked = url;
            // The "browser": the authorization endpoint answers 302 to the loopback listener, which is followed.
            _ = Task.Run(async () =>
            {
                using HttpResponseMessage redirect = await browser.GetAsync(url);
                using HttpResponseMessage landed = await browser.GetAsync(redirect.Headers.Location!);
                Assert.Contains("close this window", await landed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            });
        });

        Assert.Contains("code_challenge_method=S256", asked!.Query, StringComparison.Ordinal);
        Assert.Contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A", asked.Query, StringComparison.Ordinal);
        Assert.True(_oauth.ValidateAccessToken(Mailbox, grant.AccessToken!));
        Assert.False(string.IsNullOrEmpty(grant.RefreshToken));
    }

    [Fact]
    public async Task A_device_code_refused_in_the_browser_is_a_clear_error()
    {
        _oauth.AutoApproveDeviceAfter = null;
        var provider = OAuth2Provider.Custom(_oauth.TokenEndpoint, ["mail"], deviceAuthorizationEndpoint: _oauth.DeviceAuthorizationEndpoint);
        using var signIn = new OAuth2SignIn(provider, ClientId);

        var error = await Assert.ThrowsAsync<OAuth2Exception>(() => signIn.SignInWithDeviceCodeAsync(code => _oauth.DenyDeviceCode(code.UserCode)));

        Assert.Equal("access_denied", error.Error);
        Assert.Contains("refused", error.Message, StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable("POPLIB_OAUTH_DIR", null);
        await _pop3.DisposeAsync();
        await _other.DisposeAsync();
        await _oauth.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
