using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Poplib.Fetch;
using Poplib.Fetch.Configuration;
using Poplib.Fetch.Hosting;
using Poplib.Tests.Fetch;

namespace Poplib.Tests.Daemon;

/// <summary><c>services.AddPop3Fetch(section)</c>: accounts from configuration into the registered sink, reloaded when the configuration changes.</summary>
public sealed class AddPop3FetchConfigurationTests
{
    private const string PasswordVariable = "POPLIB_DAEMON_TEST_PW";

    [Fact]
    public async Task Configured_accounts_deliver_into_the_registered_sink_and_a_configuration_reload_adds_one()
    {
        Environment.SetEnvironmentVariable(PasswordVariable, EngineWorld.Password);
        await using DaemonWorld world = await DaemonWorld.StartAsync(accounts: 2, messages: 2);
        var settings = new Dictionary<string, string?>
        {
            ["Pop3Fetch:state"] = world.StatePath,
            ["Pop3Fetch:defaults:host"] = "127.0.0.1",
            ["Pop3Fetch:defaults:security"] = "none",
            ["Pop3Fetch:defaults:allowInsecureAuth"] = "true",
            ["Pop3Fetch:defaults:user"] = EngineWorld.User,
            ["Pop3Fetch:defaults:password:env"] = PasswordVariable,
            ["Pop3Fetch:defaults:interval"] = "1s",
            ["Pop3Fetch:accounts:0:name"] = DaemonWorld.Name(0),
            ["Pop3Fetch:accounts:0:port"] = world.Worlds[0].Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        IConfigurationRoot configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<IMessageSink>(world.Sink);
        builder.Services.AddPop3Fetch(configuration.GetSection("Pop3Fetch"), options => options.Scheduler = world.Options([]).Scheduler);
        using IHost host = builder.Build();
        await host.StartAsync();
        FetchDaemon daemon = host.Services.GetRequiredService<FetchDaemon>();
        try
        {
            await DaemonWorld.UntilAsync(daemon, () => world.Delivered(0).Count == 2, "the configured account fetched");

            configuration["Pop3Fetch:accounts:1:name"] = DaemonWorld.Name(1);
            configuration["Pop3Fetch:accounts:1:port"] = world.Worlds[1].Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            configuration.Reload();
            await DaemonWorld.UntilAsync(daemon, () => world.Delivered(1).Count == 2, "the account added to the configuration fetched");
            Assert.Equal([DaemonWorld.Name(0), DaemonWorld.Name(1)], daemon.AccountNames.Order());
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void Interval_binds_per_account_and_from_the_defaults_and_a_bad_one_is_a_configuration_failure()
    {
        var options = new FetchConfigurationOptions
        {
            Defaults = new FetchAccountOptions { Interval = "5m", Host = "h", User = "u", Password = new FetchPasswordOptions { Env = "X" }, Maildir = "/tmp/m" },
            Accounts = [new FetchAccountOptions { Name = "a" }, new FetchAccountOptions { Name = "b", Host = "other", Interval = "30s" }],
        };
        IReadOnlyList<FetchAccount> accounts = options.ToAccounts();
        Assert.Equal([TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(30)], accounts.Select(a => a.Interval!.Value));

        options.Accounts[1].Interval = "soon";
        FetchException bad = Assert.Throws<FetchException>(() => options.ToAccounts());
        Assert.Equal(FetchFailure.Configuration, bad.Failure);
        Assert.Contains("\"interval\"", bad.Message, StringComparison.Ordinal);
    }
}
