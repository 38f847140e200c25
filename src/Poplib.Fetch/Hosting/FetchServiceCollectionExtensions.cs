using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Poplib.Fetch.Observability;

namespace Poplib.Fetch.Hosting;

/// <summary>Registers the retriever's daemon (<see cref="FetchDaemon"/>) in an application's host.</summary>
/// <example>
/// <code>
/// builder.Services.AddSingleton&lt;IMessageSink, TicketSink&gt;();          // your idempotent sink
/// builder.Services.AddPop3Fetch(builder.Configuration.GetSection("Pop3Fetch"));
/// </code>
/// </example>
public static class FetchServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="FetchDaemon"/> as a hosted service, configured in code. Accounts that name no destination use the
    /// <see cref="IMessageSink"/> registered in the container; the meter comes from the host's <c>IMeterFactory</c>.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets the accounts, the state and the scheduler's options.</param>
    public static IServiceCollection AddPop3Fetch(this IServiceCollection services, Action<FetchDaemonOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<FetchDaemonOptions>().Configure(configure);
        services.TryAddSingleton(provider => new FetchMetrics(provider.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton(provider => new FetchDaemon(
            provider.GetRequiredService<IOptionsMonitor<FetchDaemonOptions>>(),
            provider.GetService<IMessageSink>(),
            provider.GetService<ILogger<FetchDaemon>>(),
            provider.GetRequiredService<FetchMetrics>()));
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<FetchDaemon>());
        return services;
    }

    /// <summary>
    /// Registers <see cref="FetchDaemon"/> with its accounts bound from a configuration section of the shape of
    /// <c>poplib fetch</c>'s config file (<see cref="FetchConfigurationOptions"/>: <c>state</c>, <c>defaults</c>,
    /// <c>accounts</c>, each account's <c>interval</c>). When the section changes (appsettings.json reloaded), the
    /// accounts are reloaded; a broken new section is logged and the old accounts keep running.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="section">The section, e.g. <c>builder.Configuration.GetSection("Pop3Fetch")</c>.</param>
    /// <param name="configure">Further settings (the default interval, the scheduler's options), or null.</param>
    public static IServiceCollection AddPop3Fetch(this IServiceCollection services, IConfiguration section, Action<FetchDaemonOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        services.AddSingleton<IOptionsChangeTokenSource<FetchDaemonOptions>>(new SectionChangeTokenSource(section));
        return services.AddPop3Fetch(options =>
        {
            options.Configuration = section.Get<FetchConfigurationOptions>() ?? new FetchConfigurationOptions();
            configure?.Invoke(options);
        });
    }

    /// <summary>Tells the options monitor when the section's configuration reloads.</summary>
    private sealed class SectionChangeTokenSource(IConfiguration section) : IOptionsChangeTokenSource<FetchDaemonOptions>
    {
        public string? Name => Options.DefaultName;

        public IChangeToken GetChangeToken() => section.GetReloadToken();
    }
}
