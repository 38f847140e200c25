using System.Buffers;

namespace Poplib.Fetch.Delivery;

/// <summary>
/// Copies a message as it arrives into its staged form (and, when the copy is being checked against
/// an earlier delivery, into a witness), enforcing --max-size on the octets the server actually
/// sends: LIST is only the server's word, and a hostile server's word could fill the disk.
/// </summary>
internal static class MessageCopy
{
    private const int BufferSize = 64 * 1024;

    /// <summary>
    /// Copies <paramref name="source"/> to its end. Returns false as soon as it passes
    /// <paramref name="limit"/> octets: nothing more is written, and the rest is read and dropped so
    /// that the session goes on with the next message (the client's per-command deadline bounds how
    /// long a server can keep sending).
    /// </summary>
    public static async Task<bool> CopyAsync(Stream source, Stream target, Stream? witness, long? limit, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long total = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > limit)
                {
                    while (await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
                    {
                    }

                    return false;
                }

                await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                if (witness is not null)
                    await witness.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
