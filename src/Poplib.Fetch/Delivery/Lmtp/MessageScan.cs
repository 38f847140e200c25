using System.Buffers;

namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>
/// What MAIL FROM needs to know about a message before it is sent: whether it has 8-bit bytes
/// (<c>BODY=8BITMIME</c>) and its size once line endings are CRLF (<c>SIZE=n</c>, RFC 1870). Read
/// from a seekable stream, which is then put back where it was.
/// </summary>
internal readonly record struct MessageScan(bool HasEightBit, long Size)
{
    public static MessageScan Read(Stream message, int bufferSize) =>
        LmtpClient.RunSync(ReadAsync(message, bufferSize, async: false, CancellationToken.None));

    public static async ValueTask<MessageScan> ReadAsync(Stream message, int bufferSize, bool async, CancellationToken cancellationToken)
    {
        long start = message.Position;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        try
        {
            bool eightBit = false;
            long size = 0;
            byte last = (byte)'\n';
            while (true)
            {
                int read = async
                    ? await message.ReadAsync(buffer.AsMemory(0, bufferSize), cancellationToken).ConfigureAwait(false)
                    : message.Read(buffer, 0, bufferSize);
                if (read == 0)
                    break;
                ReadOnlySpan<byte> chunk = buffer.AsSpan(0, read);
                eightBit |= chunk.IndexOfAnyInRange((byte)0x80, (byte)0xff) >= 0;
                size += read;
                // Each LF not after a CR gains one.
                for (int i = chunk.IndexOf((byte)'\n'); i >= 0;)
                {
                    byte before = i > 0 ? chunk[i - 1] : last;
                    if (before != (byte)'\r')
                        size++;
                    int next = chunk[(i + 1)..].IndexOf((byte)'\n');
                    i = next < 0 ? -1 : i + 1 + next;
                }

                last = chunk[^1];
            }

            if (size > 0 && last != (byte)'\n')
                size += last == (byte)'\r' ? 1 : 2;
            return new MessageScan(eightBit, size);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            message.Position = start;
        }
    }
}
