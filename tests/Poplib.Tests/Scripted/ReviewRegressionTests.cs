using System.Net.Security;
using System.Reflection;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

/// <summary>Defects a review found, each pinned by a test that failed before its fix.</summary>
public class ReviewRegressionTests
{
    [Fact]
    public async Task Cancellation_from_the_destination_closes_instead_of_desynchronising()
    {
        // Whoever can send mail controls these lines: read as replies they would forge "+OK 0 0".
        string body = string.Concat(Enumerable.Repeat("+OK 0 0\r\n", 40_000));
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1").SendRaw("+OK\r\n" + body + ".\r\n").Expect(null));
        using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, Both.Plain());
        await client.UserAsync("alice");
        await client.PassAsync("secret");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.RetrToAsync(1, new CancellingStream()));
        Assert.False(client.IsConnected);
        Assert.Throws<InvalidOperationException>(() => client.Stat());
    }

    [Fact]
    public async Task Capa_reply_is_capped_and_cheap()
    {
        await using var server = ScriptedServer.Start(s => s.Greet().On("CAPA", ["+OK", .. Enumerable.Repeat("SASL PLAIN LOGIN", 5000), "."]));
        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => Pop3Client.ConnectAsync("127.0.0.1", server.Port, Both.Plain()));
        Assert.Contains("1000", error.Message);
    }

    [Fact]
    public async Task Repeated_capability_names_merge_their_parameters()
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("SASL PLAIN", "SASL LOGIN", "sasl CRAM-MD5"));
        using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, Both.Plain());
        Assert.Equal(["PLAIN", "LOGIN", "CRAM-MD5"], client.Capabilities.SaslMechanisms);
    }

    [Fact]
    public async Task A_token_cancelled_before_the_call_keeps_the_session()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().On("QUIT", "+OK bye"));
        using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, Both.Plain());
        await client.UserAsync("alice");
        await client.PassAsync("secret");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.DeleAsync(1, cancelled.Token));
        Assert.Equal(cancelled.Token, error.CancellationToken);
        Assert.True(client.IsConnected);
        await client.QuitAsync(); // the session's deletions can still be committed
        await server.VerifyAsync();
    }

    [Fact]
    public async Task Cancellation_mid_read_names_the_callers_token()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("STAT").Delay(TimeSpan.FromSeconds(30)));
        using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, Both.Plain());
        await client.UserAsync("alice");
        await client.PassAsync("secret");
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.StatAsync(cts.Token));
        Assert.Equal(cts.Token, error.CancellationToken);
    }

    [Fact]
    public void Tls_options_copy_keeps_every_setting()
    {
        var given = new SslClientAuthenticationOptions();
        foreach (PropertyInfo property in typeof(SslClientAuthenticationOptions).GetProperties().Where(p => p.CanWrite && p.CanRead))
        {
            object? value = property.PropertyType == typeof(bool) ? !(bool)property.GetValue(given)!
                : property.PropertyType.IsEnum ? Enum.GetValues(property.PropertyType).Cast<object>().Last()
                : null;
            if (value is not null && property.Name != nameof(SslClientAuthenticationOptions.TargetHost))
            {
#pragma warning disable SYSLIB0040
                try
                {
                    property.SetValue(given, value);
                }
                catch (TargetInvocationException)
                {
                    // Some enum values are refused by the setter; the default then stands for the test.
                }
#pragma warning restore SYSLIB0040
            }
        }

        given.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        SslClientAuthenticationOptions copy = Poplib.Transport.TlsOptions.For("mail.example.org", given);

        Assert.Equal("mail.example.org", copy.TargetHost);
        foreach (PropertyInfo property in typeof(SslClientAuthenticationOptions).GetProperties().Where(p => p.CanWrite && p.CanRead && p.Name != "TargetHost"))
            Assert.True(Equals(property.GetValue(given), property.GetValue(copy)), $"{property.Name} was not copied");
    }

    private sealed class CancellingStream : MemoryStream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new TaskCanceledException("the HTTP client went away"));
    }
}
