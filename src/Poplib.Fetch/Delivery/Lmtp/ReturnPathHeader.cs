using System.Buffers;
using System.Text;

namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>
/// The envelope sender for a message taken from a mailbox: the address in its <c>Return-Path:</c>
/// header field (RFC 5322 section 3.6.7, written by the last delivery), or the null path when it has
/// none, when it says <c>&lt;&gt;</c>, or when what it holds could not be sent in MAIL FROM. Only the
/// start of the message is read (at most <see cref="MaxHeaderOctets"/>, the header ends earlier);
/// the stream is put back where it was.
/// </summary>
internal static class ReturnPathHeader
{
    public const int MaxHeaderOctets = 64 * 1024;

    /// <summary>The sender for MAIL FROM: an address, or "" for <c>&lt;&gt;</c>.</summary>
    public static string ReadSender(Stream message)
    {
        long start = message.Position;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxHeaderOctets);
        try
        {
            int filled = 0;
            while (filled < MaxHeaderOctets)
            {
                int read = message.Read(buffer, filled, MaxHeaderOctets - filled);
                if (read == 0)
                    break;
                filled += read;
            }

            return FindSender(buffer.AsSpan(0, filled));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            message.Position = start;
        }
    }

    /// <summary>The sender named by the first <c>Return-Path:</c> field of <paramref name="header"/>, or "".</summary>
    public static string FindSender(ReadOnlySpan<byte> header)
    {
        string? value = null;
        while (!header.IsEmpty)
        {
            int lf = header.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = lf < 0 ? header : header[..lf];
            header = lf < 0 ? default : header[(lf + 1)..];
            if (!line.IsEmpty && line[^1] == (byte)'\r')
                line = line[..^1];
            if (line.IsEmpty)
                break; // the blank line that ends the header
            if (value is not null)
            {
                if (line[0] is (byte)' ' or (byte)'\t')
                {
                    value += Encoding.UTF8.GetString(line); // folded: the field goes on
                    continue;
                }

                break;
            }

            if (line.Length >= 12 && Ascii.EqualsIgnoreCase(line[..12], "Return-Path:"u8))
                value = Encoding.UTF8.GetString(line[12..]);
        }

        return value is null ? "" : AddressOf(value);
    }

    // "<addr>" (with spaces or a comment around it), or a bare addr; "" for <> and for anything unusable.
    private static string AddressOf(string value)
    {
        string address;
        int open = value.IndexOf('<', StringComparison.Ordinal);
        if (open >= 0)
        {
            int close = value.IndexOf('>', open + 1);
            if (close < 0)
                return "";
            address = value[(open + 1)..close].Trim();
        }
        else
        {
            address = value.Trim();
        }

        try
        {
            LmtpAddress.ValidateSender(address, nameof(value));
            return address;
        }
        catch (ArgumentException)
        {
            return "";
        }
    }
}
