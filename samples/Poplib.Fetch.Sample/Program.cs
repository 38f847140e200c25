using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Poplib.Fetch;
using Poplib.Fetch.Hosting;
using Poplib.Fetch.Sample;

// A worker that polls the mailboxes of appsettings.json's "Pop3Fetch" section (the shape of `poplib fetch`'s config
// file, each account with its "interval") and stores each message once in mail.sqlite. Ctrl-C or SIGTERM stops it
// gracefully; editing appsettings.json reloads the accounts.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSingleton<IMessageSink>(new SqliteMessageSink(builder.Configuration["MailDatabase"] ?? "mail.sqlite"));
builder.Services.AddPop3Fetch(builder.Configuration.GetSection("Pop3Fetch"));
await builder.Build().RunAsync().ConfigureAwait(false);
