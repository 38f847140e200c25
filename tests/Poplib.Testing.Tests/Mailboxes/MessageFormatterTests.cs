using System.Text;
using Poplib.Testing.Protocol;

namespace Poplib.Testing.Tests.Mailboxes;

/// <summary>The wire form must not depend on where the reads split the stored bytes.</summary>
public class MessageFormatterTests
{
    [Theory]
    [InlineData("a\r\nb\nc", "a\r\nb\r\nc\r\n")]
    [InlineData(".\n..\r\n.x", "..\r\n...\r\n..x\r\n")]
    [InlineData("bare\rcr\n", "bare\rcr\r\n")]
    [InlineData("ends with cr\r", "ends with cr\r\r\n")]
    [InlineData("", "")]
    [InlineData("\n\n", "\r\n\r\n")]
    public void Any_chunking_gives_the_same_output(string stored, string wire)
    {
        byte[] input = Encoding.ASCII.GetBytes(stored);
        for (int chunk = 1; chunk <= Math.Max(1, input.Length); chunk++)
            Assert.Equal(wire, Format(input, chunk, dotStuff: true, bodyLines: -1));
        // LIST sizes: the same form without dot-stuffing.
        Assert.Equal(Format(input, Math.Max(1, input.Length), dotStuff: false, bodyLines: -1).Length, MessageFormatter.Measure(input));
    }

    [Theory]
    [InlineData(0, "H: 1\r\n\r\n")]
    [InlineData(1, "H: 1\r\n\r\nb1\r\n")]
    [InlineData(5, "H: 1\r\n\r\nb1\r\nb2\r\n")]
    public void Top_stops_after_the_body_lines(int lines, string wire)
    {
        byte[] input = "H: 1\n\nb1\nb2\n"u8.ToArray();
        for (int chunk = 1; chunk <= input.Length; chunk++)
            Assert.Equal(wire, Format(input, chunk, dotStuff: false, bodyLines: lines));
    }

    private static string Format(byte[] input, int chunk, bool dotStuff, long bodyLines)
    {
        var formatter = new MessageFormatter("\r\n"u8, dotStuff, bodyLines);
        var output = new byte[MessageFormatter.MaxOutputLength(chunk)];
        var result = new StringBuilder();
        for (int i = 0; i < input.Length && !formatter.IsComplete; i += chunk)
        {
            int n = formatter.Transform(input.AsSpan(i, Math.Min(chunk, input.Length - i)), output);
            result.Append(Encoding.ASCII.GetString(output, 0, n));
        }

        int end = formatter.Finish(output);
        return result.Append(Encoding.ASCII.GetString(output, 0, end)).ToString();
    }
}
