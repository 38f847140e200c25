using System.Buffers;
using Poplib.Engine;

namespace Poplib.Framing;

/// <summary>
/// Reads the current body into one array for <see cref="Pop3Client.Retr(int)"/> and
/// <see cref="Pop3Client.Top(int, int)"/>, under <see cref="Pop3ClientOptions.MaxInMemoryMessageSize"/>.
/// The array is sized from the size the server announced, when it did, but never past the limit (a
/// server may be wrong or lie); it grows only once more bytes have actually arrived, and never past
/// the limit either. Its unused end is given back when a false size made it more than twice too big.
/// </summary>
internal static class MessageCollector
{
    private const int InitialSize = 64 * 1024;

    // Holds the bytes that show whether a full array was the whole message: an exact announced
    // size then costs no growth at all.
    private const int ProbeSize = 4 * 1024;

    public static async ValueTask<ReadOnlyMemory<byte>> ReadAsync(Pop3Connection connection, long? announcedSize, long limit, string streamingForms, bool async, CancellationToken cancellationToken)
    {
        // Array.MaxLength bounds the limit (the options check it), so every size here fits an int.
        byte[] content = GC.AllocateUninitializedArray<byte>((int)Math.Min(limit, Math.Max(1, announcedSize ?? InitialSize)));
        int written = 0;
        byte[] probe = ArrayPool<byte>.Shared.Rent(ProbeSize);
        try
        {
            while (true)
            {
                if (written < content.Length)
                {
                    int read = await connection.ReadBodyAsync(content.AsMemory(written), async, cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                        break;
                    written += read;
                    continue;
                }

                int more = await connection.ReadBodyAsync(probe.AsMemory(0, ProbeSize), async, cancellationToken).ConfigureAwait(false);
                if (more == 0)
                    break;
                if (written + (long)more > limit)
                {
                    throw connection.Fail(new Pop3LimitExceededException(nameof(Pop3ClientOptions.MaxInMemoryMessageSize), limit,
                        $"Message is larger than the in-memory limit; use {streamingForms} to stream it"));
                }

                content = Resize(content, written, (int)Math.Min(limit, Math.Max(2L * content.Length, written + more)));
                probe.AsSpan(0, more).CopyTo(content.AsSpan(written));
                written += more;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(probe);
        }

        bool wasteful = content.Length - written > Math.Max(written, InitialSize);
        return wasteful ? Resize(content, written, written) : content.AsMemory(0, written);
    }

    private static byte[] Resize(byte[] content, int used, int size)
    {
        byte[] resized = GC.AllocateUninitializedArray<byte>(size);
        content.AsSpan(0, used).CopyTo(resized);
        return resized;
    }
}
