using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Poplib.Diagnostics;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

public class DiagnosticsTests
{
    private static ScriptedServer LoginScript() => ScriptedServer.Start(s => s
        .Greet("+OK ready <1.2@host>")
        .Capa("USER", "TOP")
        .On("USER alice", "+OK")
        .On("PASS hunter2", "+OK")
        .Capa("TOP")
        .On("LIST", "+OK", "1 10", ".")
        .Expect("RETR 1").SendRaw("+OK\r\nsecret body text\r\n.\r\n")
        .On("QUIT", "+OK"));

    private static void Exercise(Pop3Client client)
    {
        client.User("alice");
        client.Pass("hunter2");
        client.List();
        client.Retr(1);
        client.Quit();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Debug_output_shows_the_dialogue_with_the_password_masked(int level)
    {
        await using var server = LoginScript();
        var writer = new StringWriter();
        var options = Both.Plain();
        options.DebugLevel = level;
        options.DebugWriter = writer;
        using (Pop3Client client = Pop3Client.Connect("127.0.0.1", server.Port, options))
            Exercise(client);
        await server.VerifyAsync();

        string transcript = writer.ToString();
        Assert.Contains("C: USER alice", transcript);
        Assert.Contains("C: PASS ****", transcript);
        Assert.Contains("S: +OK ready <1.2@host>", transcript);
        Assert.DoesNotContain("hunter2", transcript);
        Assert.DoesNotContain("secret body text", transcript);
        Assert.Equal(level >= 2, transcript.Contains("S: 1 10", StringComparison.Ordinal));
        Assert.Equal(level >= 2, transcript.Contains("S: <message body, 18 octets>", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Debug_level_zero_is_silent_and_can_be_raised_later()
    {
        await using var server = LoginScript();
        var writer = new StringWriter();
        var options = Both.Plain();
        options.DebugWriter = writer;
        using Pop3Client client = Pop3Client.Connect("127.0.0.1", server.Port, options);
        client.User("alice");
        Assert.Equal("", writer.ToString());
        client.DebugLevel = 1;
        client.Pass("hunter2");
        Assert.Contains("C: PASS ****", writer.ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => client.DebugLevel = -1);
    }

    [Fact]
    public async Task Apop_digest_is_masked_too()
    {
        await using var server = ScriptedServer.Start(s => s.Greet("+OK <1896.697170952@dbc.mtview.ca.us>").On("CAPA", "-ERR")
            .On("APOP mrose c4c9334bac560ecc979e58001b3e22fb", "+OK"));
        var writer = new StringWriter();
        var options = Both.Plain();
        options.DebugLevel = 2;
        options.DebugWriter = writer;
        using Pop3Client client = Pop3Client.Connect("127.0.0.1", server.Port, options);
        client.Apop("mrose", "tanstaaf");
        Assert.Contains("C: APOP mrose ****", writer.ToString());
        Assert.DoesNotContain("c4c9334b", writer.ToString());
    }

    [Fact]
    public async Task Audit_events_connect_and_putline_are_raised_with_secrets_masked()
    {
        await using var server = LoginScript();
        var events = new List<(string Name, object? Payload)>();
        using var subscription = DiagnosticListener.AllListeners.Subscribe(new Observer<DiagnosticListener>(listener =>
        {
            if (listener.Name == Pop3Diagnostics.SourceName)
            {
                listener.Subscribe(new Observer<KeyValuePair<string, object?>>(e =>
                {
                    // Other tests run in parallel: keep only this test's server's events.
                    if (e.Value is Pop3ConnectEvent { Port: var p } && p == server.Port
                        || e.Value is Pop3PutLineEvent { Client.Port: var q } && q == server.Port)
                    {
                        lock (events)
                            events.Add((e.Key, e.Value));
                    }
                }));
            }
        }));

        using (Pop3Client client = Pop3Client.Connect("127.0.0.1", server.Port, Both.Plain()))
            Exercise(client);

        List<(string Name, object? Payload)> seen;
        lock (events)
            seen = [.. events];
        Assert.Equal(Pop3Diagnostics.ConnectEventName, seen[0].Name);
        Assert.Equal(new Pop3ConnectEvent("127.0.0.1", server.Port, ImplicitTls: false), seen[0].Payload);
        string[] lines = seen.Skip(1).Select(e => ((Pop3PutLineEvent)e.Payload!).Line).ToArray();
        Assert.All(seen.Skip(1), e => Assert.Equal(Pop3Diagnostics.PutLineEventName, e.Name));
        Assert.Equal(["CAPA", "USER alice", "PASS ****", "CAPA", "LIST", "RETR 1", "QUIT"], lines);
    }

    [Fact]
    public async Task Logger_receives_the_transcript_with_the_password_masked()
    {
        await using var server = LoginScript();
        var logger = new ListLogger();
        var options = Both.Plain();
        options.Logger = logger;
        using (Pop3Client client = Pop3Client.Connect("127.0.0.1", server.Port, options))
            Exercise(client);

        string all = string.Join('\n', logger.Messages);
        Assert.Contains("Connected to 127.0.0.1", all);
        Assert.Contains("C: PASS ****", all);
        Assert.Contains("S: +OK ready <1.2@host>", all);
        Assert.DoesNotContain("hunter2", all);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_dropped_top_excess_is_noted_in_the_transcript_and_the_log(bool async)
    {
        // GNU mailutils: one empty line after the header, which TOP 1 0 did not ask for.
        await using var server = ScriptedServer.Start(s => s.LoggedIn(["USER", "TOP"])
            .Expect("TOP 1 0").SendRaw("+OK\r\nSubject: x\r\n\r\n\r\n.\r\n"));
        var writer = new StringWriter();
        var logger = new ListLogger();
        var options = Both.Plain();
        options.DebugLevel = 1;
        options.DebugWriter = writer;
        options.Logger = logger;
        using Pop3Client client = await Both.LogIn(async, server.Port, options);

        Pop3Message head = await Both.Run(async, () => client.Top(1, 0), () => client.TopAsync(1, 0));

        Assert.True(head.ExcessDiscarded);
        Assert.Contains("*TOP reply longer than asked: 2 octets past the requested lines dropped*", writer.ToString());
        Assert.Contains("The server's TOP reply went on past the lines asked for; 2 octets dropped", logger.Messages);
    }

    [Fact]
    public async Task Activities_trace_connect_and_commands()
    {
        await using var server = LoginScript();
        var activities = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Pop3Diagnostics.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.GetTagItem("server.port") is int port && port == server.Port)
                {
                    lock (activities)
                        activities.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        using (Pop3Client client = Pop3Client.Connect("127.0.0.1", server.Port, Both.Plain()))
            Exercise(client);

        lock (activities)
        {
            Assert.Contains(activities, a => a.OperationName == "pop3.connect");
            Assert.Equal(["USER", "PASS", "LIST", "RETR", "QUIT"], activities.Where(a => a.OperationName == "pop3.command").Select(a => (string)a.GetTagItem("pop3.command")!));
        }
    }

    private sealed class Observer<T>(Action<T> onNext) : IObserver<T>
    {
        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void OnNext(T value) => onNext(value);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Messages)
                Messages.Add(formatter(state, exception));
        }
    }
}
