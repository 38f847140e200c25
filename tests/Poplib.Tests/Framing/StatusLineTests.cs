using System.Text;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Framing;

public class StatusLineTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Overlong_status_line_is_a_limit_error_and_closes(bool async)
    {
        // MailKit would buffer this; we stop at the limit, long before the server stops sending.
        await using var server = ScriptedServer.Start(s => s.SendRaw("+OK " + new string('a', 100_000)));
        var error = await Assert.ThrowsAsync<Pop3LimitExceededException>(() => Both.Connect(async, server.Port, Both.Plain()));
        Assert.Equal(nameof(Pop3ClientOptions.MaxLineLength), error.LimitName);
        Assert.Equal(8192, error.Limit);
    }

    [Fact]
    public async Task Status_lines_longer_than_poplibs_2048_are_accepted_up_to_the_limit()
    {
        string greeting = "+OK " + new string('g', 4000);
        await using var server = ScriptedServer.Start(s => s.Send(greeting).On("CAPA", "-ERR"));
        using Pop3Client client = Pop3Client.Connect("127.0.0.1", server.Port, Both.Plain());
        Assert.Equal(greeting, client.Welcome);
    }

    [Fact]
    public async Task Limit_is_configurable()
    {
        await using var server = ScriptedServer.Start(s => s.Send("+OK " + new string('g', 700)));
        var options = Both.Plain();
        options.MaxLineLength = 600;
        var error = Assert.Throws<Pop3LimitExceededException>(() => Pop3Client.Connect("127.0.0.1", server.Port, options));
        Assert.Equal(600, error.Limit);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Status_line_split_into_single_bytes_is_read_whole(bool async)
    {
        await using var server = ScriptedServer.Start(
            s => s.Send("+OK [IN-USE] split greeting <a.b@c>").On("CAPA", "+OK", "TOP", "UIDL", "."), byteByByte: true);
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());
        Assert.Equal("+OK [IN-USE] split greeting <a.b@c>", client.Welcome);
        Assert.Equal(Pop3ResponseCode.InUse, client.Greeting.Code);
        Assert.True(client.Capabilities.Uidl);
    }

    [Fact]
    public async Task Eight_bit_junk_before_utf8_mode_is_decoded_leniently_and_utf8_after()
    {
        byte[] greeting = [.. "+OK caf"u8, 0xE9, .. " ready\r\n"u8]; // Latin-1 é: not valid UTF-8
        await using var server = ScriptedServer.Start(s => s.SendRaw(greeting)
            .Capa("UTF8", "USER")
            .On("UTF8", "+OK UTF8 enabled")
            .On("USER jörg", "+OK Grüße, jörg"));
        using Pop3Client client = Pop3Client.Connect("127.0.0.1", server.Port, Both.Plain());

        Assert.Equal("+OK café ready", client.Welcome);
        Assert.False(client.IsUtf8);
        client.Utf8();
        Assert.True(client.IsUtf8);
        Assert.Equal("Grüße, jörg", client.User("jörg").Text);
        await server.VerifyAsync();
    }

    [Fact]
    public async Task Utf8_refused_is_a_command_error()
    {
        await using var server = ScriptedServer.Start(s => s.Greet().On("CAPA", "-ERR").On("UTF8", "-ERR Unknown command"));
        using Pop3Client client = Pop3Client.Connect("127.0.0.1", server.Port, Both.Plain());
        await Assert.ThrowsAsync<Pop3CommandException>(() => client.Utf8Async());
        Assert.False(client.IsUtf8);
    }

    [Theory]
    [InlineData("+OK", true, "", Pop3ResponseCode.None)]
    [InlineData("+ok lower case", true, "lower case", Pop3ResponseCode.None)]
    [InlineData("-ERR [SYS/PERM] gone", false, "[SYS/PERM] gone", Pop3ResponseCode.SysPerm)]
    [InlineData("-ERR [SYS/TEMP/DB] db down", false, "[SYS/TEMP/DB] db down", Pop3ResponseCode.SysTemp)]
    [InlineData("-ERR [LOGIN-DELAY] wait", false, "[LOGIN-DELAY] wait", Pop3ResponseCode.LoginDelay)]
    [InlineData("-ERR [X-VENDOR] hm", false, "[X-VENDOR] hm", Pop3ResponseCode.Other)]
    [InlineData("-ERR", false, "", Pop3ResponseCode.None)]
    public void Status_lines_parse(string line, bool ok, string text, Pop3ResponseCode code)
    {
        Pop3Response? response = Poplib.Commands.ReplyParser.TryParseStatus(Encoding.ASCII.GetBytes(line), utf8Mode: false);
        Assert.NotNull(response);
        Assert.Equal(ok, response.IsOk);
        Assert.Equal(text, response.Text);
        Assert.Equal(code, response.Code);
        Assert.Equal(line, response.Line);
    }

    [Theory]
    [InlineData("OK")]
    [InlineData("+")]
    [InlineData("")]
    [InlineData("-ER")]
    public void Non_status_lines_are_rejected(string line) =>
        Assert.Null(Poplib.Commands.ReplyParser.TryParseStatus(Encoding.ASCII.GetBytes(line), utf8Mode: false));
}
