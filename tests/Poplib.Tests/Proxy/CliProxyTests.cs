using Poplib.Cli;
using Poplib.Cli.Connection;
using Poplib.Tests.Cli;
using Poplib.Tests.Interop;

namespace Poplib.Tests.Proxy;

/// <summary>poplib --proxy against the real proxies and Dovecot; the proxy password never on the command line, never printed.</summary>
[Collection(nameof(RealProxyCollection))]
public sealed class CliProxyTests(RealProxies proxies, DovecotFixture dovecot)
{
    private (string[] Account, string Password) Account()
    {
        var (user, password) = dovecot.Server.AddUser([SampleMail.Message(1), SampleMail.Message(2)]);
        string variable = "POPLIB_TEST_" + user.ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, password);
        return ([$"pop://{user}@localhost:{dovecot.Server.PlainPort}", "--ca-file", Path.Combine(dovecot.Server.Directory, "cert.pem"), "--password-env", variable, "--json"], password);
    }

    [RealProxyTheory]
    [InlineData("socks5")]
    [InlineData("http")]
    public async Task Stat_through_an_authenticating_proxy_with_the_password_from_the_environment(string scheme)
    {
        (string[] account, _) = Account();
        Environment.SetEnvironmentVariable("POPLIB_TEST_PROXY_PW", proxies.Credentials.Password);
        int port = scheme == "socks5" ? proxies.Socks5AuthPort : proxies.HttpAuthPort;
        CliRunner.Outcome outcome = await CliRunner.RunAsync([
            "stat", .. account, "--proxy", $"{scheme}://{proxies.Credentials.UserName}@127.0.0.1:{port}", "--proxy-password-env", "POPLIB_TEST_PROXY_PW", "-vv"]);

        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Contains("\"count\": 2", outcome.Out.Replace("\"count\":2", "\"count\": 2"));
        Assert.Contains($"through the proxy {scheme}://{proxies.Credentials.UserName}:****@127.0.0.1:{port}", outcome.Error);
        Assert.Contains("TLS started", outcome.Error);   // STLS through the tunnel, as without a proxy
        Assert.DoesNotContain(proxies.Credentials.Password, outcome.Error + outcome.Out);
    }

    [RealProxyTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Proxy_env_reads_all_proxy_password_included_and_honours_no_proxy(bool bypassed)
    {
        (string[] account, _) = Account();
        string url = $"socks5://{proxies.Credentials.UserName}:{Uri.EscapeDataString(proxies.Credentials.Password)}@127.0.0.1:{proxies.Socks5AuthPort}";
        try
        {
            Environment.SetEnvironmentVariable("all_proxy", bypassed ? "socks5://127.0.0.1:" + RealProxyTests.ClosedPort() : url);
            Environment.SetEnvironmentVariable("no_proxy", bypassed ? "example.org,.localhost,localhost" : "example.org");
            CliRunner.Outcome outcome = await CliRunner.RunAsync(["stat", .. account, "--proxy", "env", "-v"]);

            Assert.True(outcome.ExitCode == 0, outcome.Error);
            Assert.Equal(!bypassed, outcome.Error.Contains("through the proxy socks5://"));
            Assert.DoesNotContain(proxies.Credentials.Password, outcome.Error + outcome.Out);
        }
        finally
        {
            Environment.SetEnvironmentVariable("all_proxy", null);
            Environment.SetEnvironmentVariable("no_proxy", null);
        }
    }

    [RealProxyTheory]
    [InlineData("socks5", ExitCodes.Authentication)]
    [InlineData("http", ExitCodes.Authentication)]
    public async Task A_refused_proxy_password_is_a_login_failure_and_stays_masked(string scheme, int expected)
    {
        (string[] account, _) = Account();
        Environment.SetEnvironmentVariable("POPLIB_TEST_PROXY_WRONG", "wrong-proxy-password-Zq9x");
        int port = scheme == "socks5" ? proxies.Socks5AuthPort : proxies.HttpAuthPort;
        CliRunner.Outcome outcome = await CliRunner.RunAsync([
            "stat", .. account, "--proxy", $"{scheme}://{proxies.Credentials.UserName}@127.0.0.1:{port}", "--proxy-password-env", "POPLIB_TEST_PROXY_WRONG", "-vv"]);

        Assert.Equal(expected, outcome.ExitCode);
        Assert.Contains($"The proxy {scheme}://{proxies.Credentials.UserName}:****@127.0.0.1:{port} refused the user name and password", outcome.Error);
        Assert.DoesNotContain("Zq9x", outcome.Error + outcome.Out);
    }

    [RealProxyTheory]
    [InlineData("socks5")]
    [InlineData("http")]
    public async Task A_closed_proxy_port_is_a_connection_failure(string scheme)
    {
        (string[] account, _) = Account();
        int closed = RealProxyTests.ClosedPort();
        CliRunner.Outcome outcome = await CliRunner.RunAsync(["stat", .. account, "--proxy", $"{scheme}://127.0.0.1:{closed}"]);
        Assert.Equal(ExitCodes.Connection, outcome.ExitCode);
        Assert.Contains($"Cannot connect to the proxy {scheme}://127.0.0.1:{closed}", outcome.Error);
    }
}

/// <summary>--proxy's usage errors: before anything connects, with nothing secret repeated.</summary>
public sealed class CliProxyUsageTests
{
    [Theory]
    [InlineData(new[] { "--proxy", "socks5://u:secret-Zq9x@127.0.0.1:1080" }, "a password in --proxy would be visible to every user of this machine")]
    [InlineData(new[] { "--proxy", "http://u:secret-Zq9x@127.0.0.1:3128" }, "--proxy-password-env VAR")]
    [InlineData(new[] { "--proxy", "127.0.0.1:secret-Zq9x" }, "--proxy is not a proxy URL such as socks5://")]
    [InlineData(new[] { "--proxy", "https://127.0.0.1:3128" }, "--proxy: Unknown proxy scheme \"https\"")]
    [InlineData(new[] { "--proxy-password-env", "PATH" }, "--proxy-password-env needs --proxy")]
    [InlineData(new[] { "--proxy", "socks5://u@127.0.0.1:1080" }, "A SOCKS5 user name goes with a password (RFC 1929): socks5://u@127.0.0.1:1080. (the proxy's password: --proxy-password-env VAR)")]
    [InlineData(new[] { "--proxy", "http://u@127.0.0.1:3128" }, "--proxy names a user: give the proxy's password with --proxy-password-env VAR")]
    [InlineData(new[] { "--proxy", "socks5://127.0.0.1:1080", "--proxy-password-env", "PATH" }, "needs a user in the proxy URL")]
    [InlineData(new[] { "--proxy", "socks4a://u@127.0.0.1:1080", "--proxy-password-env", "PATH" }, "SOCKS4a has no passwords")]
    [InlineData(new[] { "--proxy", "socks5://u@127.0.0.1:1080", "--proxy-password-env", "POPLIB_TEST_UNSET_VARIABLE" }, "POPLIB_TEST_UNSET_VARIABLE is not set")]
    public async Task Refused(string[] proxyOptions, string expected)
    {
        CliRunner.Outcome outcome = await CliRunner.RunAsync(["stat", "--host", "127.0.0.1", "--port", "1", "--user", "bob", "--password-env", "PATH", .. proxyOptions]);
        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.Contains(expected, outcome.Error);
        Assert.DoesNotContain("Zq9x", outcome.Error);
    }

    [Fact]
    public async Task Proxy_env_without_all_proxy_is_refused()
    {
        if (Environment.GetEnvironmentVariable("all_proxy") is not null || Environment.GetEnvironmentVariable("ALL_PROXY") is not null)
            return; // the machine itself sets it: nothing to test here
        CliRunner.Outcome outcome = await CliRunner.RunAsync("stat", "--host", "127.0.0.1", "--user", "bob", "--password-env", "PATH", "--proxy", "env");
        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.Contains("--proxy env: neither all_proxy nor ALL_PROXY is set", outcome.Error);
    }

    [Theory]
    [InlineData("*", "pop.example.org", true)]
    [InlineData("example.org", "pop.example.org", true)]
    [InlineData(".example.org", "pop.example.org", true)]
    [InlineData("example.org", "example.org", true)]
    [InlineData("ample.org", "pop.example.org", false)]
    [InlineData("other.org, localhost", "LOCALHOST", true)]
    [InlineData("", "pop.example.org", false)]
    public void No_proxy_matches_as_curl_does(string noProxy, string host, bool bypassed) =>
        Assert.Equal(bypassed, ProxySetting.Bypasses(noProxy, host));
}
