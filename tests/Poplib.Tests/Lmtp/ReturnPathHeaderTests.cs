using System.Text;
using Poplib.Fetch.Delivery.Lmtp;

namespace Poplib.Tests.Lmtp;

public class ReturnPathHeaderTests
{
    [Theory]
    [InlineData("Return-Path: <bob@example.org>\r\nSubject: x\r\n\r\nbody\r\n", "bob@example.org")]
    [InlineData("return-path:<bob@example.org>\nSubject: x\n\nbody\n", "bob@example.org")]
    [InlineData("Subject: x\r\nReturn-Path:\r\n <folded@example.org>\r\n\r\n", "folded@example.org")]
    [InlineData("Return-Path: <>\r\n\r\n", "")]
    [InlineData("Return-Path: bare@example.org (comment)\r\n\r\n", "")]
    [InlineData("Return-Path: bare@example.org\r\n\r\n", "bare@example.org")]
    [InlineData("Return-Path: <a@b> \r\nReturn-Path: <second@b>\r\n\r\n", "a@b")]
    [InlineData("Subject: none\r\n\r\nReturn-Path: <in-body@example.org>\r\n", "")]
    [InlineData("Return-Path: <has space@example.org>\r\n\r\n", "")]
    [InlineData("Return-Path: <unclosed@example.org\r\n\r\n", "")]
    [InlineData("", "")]
    public void Takes_the_sender_from_the_header_or_the_null_path(string message, string sender)
    {
        var stream = new MemoryStream(Encoding.UTF8.GetBytes(message));
        Assert.Equal(sender, ReturnPathHeader.ReadSender(stream));
        Assert.Equal(0, stream.Position);
    }

    [Fact]
    public void Reads_no_further_than_the_bound()
    {
        string header = "X-Filler: " + new string('a', ReturnPathHeader.MaxHeaderOctets) + "\r\nReturn-Path: <late@example.org>\r\n\r\n";
        Assert.Equal("", ReturnPathHeader.ReadSender(new MemoryStream(Encoding.ASCII.GetBytes(header))));
    }
}
