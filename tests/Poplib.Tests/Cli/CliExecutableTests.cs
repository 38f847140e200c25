using Poplib.Cli;
using Poplib.Testing;

namespace Poplib.Tests.Cli;

/// <summary>The real <c>poplib</c> executable, as a shell runs it: its name, and what it does when its output is closed.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class CliExecutableTests
{
    private const string PasswordVariable = "POPLIB_EXE_TEST_PW";

    [Fact]
    public async Task It_calls_itself_poplib()
    {
        CliProcess.Outcome help = await CliProcess.RunAsync(["--help"]);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Usage:\n  poplib [command] [options]", help.Out);
        CliProcess.Outcome stat = await CliProcess.RunAsync(["stat", "--help"]);
        Assert.Contains("poplib stat [options]", stat.Out);
        CliProcess.Outcome wrong = await CliProcess.RunAsync(["bogus"]);
        Assert.Equal(ExitCodes.Usage, wrong.ExitCode);
        Assert.Contains("Try 'poplib --help'", wrong.Error);
        Assert.DoesNotContain("Poplib.Cli", help.Out + stat.Out + wrong.Error);
    }

    [Fact]
    public async Task Retr_into_a_closed_pipe_stops_reading_the_message_and_exits_141_quietly()
    {
        byte[] content = new byte[40 * 1024 * 1024];
        for (int i = 0; i < content.Length; i++)
            content[i] = i % 80 == 79 ? (byte)'\n' : (byte)('a' + (i % 26));
        var counted = new CountingMessage(content);
        await using Pop3TestServer server = await StartAsync(new CountingMailbox([counted.Message]));

        CliProcess.Outcome outcome = await CliProcess.RunAsync(["retr", "1", .. Login(server)], closeOutputAfter: 100);
        Assert.Equal(ExitCodes.BrokenPipe, outcome.ExitCode);
        Assert.Equal("", outcome.Error);
        Assert.True(counted.BytesRead < 16 * 1024 * 1024, $"the server had to produce {counted.BytesRead:N0} of {content.Length:N0} bytes");
    }

    [Fact]
    public async Task A_listing_into_a_closed_pipe_exits_141_quietly()
    {
        await using Pop3TestServer server = await StartAsync(Pop3Mailbox.FromMessages(Enumerable.Range(1, 20_000).Select(i => "Subject: x\n\nbody\n"u8.ToArray())));
        foreach (string[] command in new[] { new[] { "uidl" }, ["list", "--json"] })
        {
            CliProcess.Outcome outcome = await CliProcess.RunAsync([.. command, .. Login(server)], closeOutputAfter: 10);
            Assert.Equal(ExitCodes.BrokenPipe, outcome.ExitCode);
            Assert.Equal("", outcome.Error);
        }
    }

    [Fact]
    public async Task Output_redirected_to_a_file_is_written_where_the_shell_left_off_and_the_next_command_goes_on_after_it()
    {
        // Found by the interop suite: on a regular file, standard output was written at a position of
        // poplib's own (pwrite), so the shell's next write into the same file landed on top of it.
        await using Pop3TestServer server = await StartAsync(Pop3Mailbox.FromMessages(["Subject: one\n\nfirst\n"u8.ToArray(), "Subject: two\n\nsecond\n"u8.ToArray()]));
        string file = Path.Combine(Path.GetTempPath(), $"poplib-stdout-{Guid.NewGuid():N}.txt");
        try
        {
            string login = string.Join(' ', Login(server));
            var start = new System.Diagnostics.ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add($"{{ echo before; \"$0\" retr 1 {login}; \"$0\" retr 2 {login}; \"$0\" stat {login}; echo after; }} > \"$1\"");
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Poplib.Cli"));
            start.ArgumentList.Add(file);
            using (var shell = System.Diagnostics.Process.Start(start)!)
                await shell.WaitForExitAsync();

            Assert.Equal("before\nSubject: one\r\n\r\nfirst\r\nSubject: two\r\n\r\nsecond\r\n2 messages, 47 octets\nafter\n", await File.ReadAllTextAsync(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<Pop3TestServer> StartAsync(IPop3Mailbox mailbox)
    {
        Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.None });
        server.AddUser("alice", "exe-secret", mailbox);
        Environment.SetEnvironmentVariable(PasswordVariable, "exe-secret");
        return server;
    }

    private static string[] Login(Pop3TestServer server) =>
        ["--host", "127.0.0.1", "--port", server.Port.ToString(), "--user", "alice", "--password-env", PasswordVariable, "--auth", "user", "--allow-insecure-auth"];

    /// <summary>A message whose every opening counts the bytes the server reads from it.</summary>
    private sealed class CountingMessage
    {
        private long _read;

        public CountingMessage(byte[] content)
        {
            long size = Pop3MailboxMessage.FromBytes("big", content).Size;
            Message = new Pop3MailboxMessage("big", size, () => new Counting(new MemoryStream(content, writable: false), this));
        }

        public Pop3MailboxMessage Message { get; }

        public long BytesRead => Interlocked.Read(ref _read);

        private sealed class Counting(Stream inner, CountingMessage owner) : Stream
        {
            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => false;

            public override long Length => inner.Length;

            public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

            public override int Read(byte[] buffer, int offset, int count)
            {
                int n = inner.Read(buffer, offset, count);
                Interlocked.Add(ref owner._read, n);
                return n;
            }

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                int n = await inner.ReadAsync(buffer, cancellationToken);
                Interlocked.Add(ref owner._read, n);
                return n;
            }

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }

    private sealed class CountingMailbox(IReadOnlyList<Pop3MailboxMessage> messages) : IPop3Mailbox
    {
        public ValueTask<IReadOnlyList<Pop3MailboxMessage>> OpenAsync(CancellationToken cancellationToken) => ValueTask.FromResult(messages);

        public ValueTask CommitAsync(IReadOnlyList<Pop3MailboxMessage> deleted, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
