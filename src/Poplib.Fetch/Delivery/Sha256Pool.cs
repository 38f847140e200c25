using System.Security.Cryptography;

namespace Poplib.Fetch.Delivery;

/// <summary>
/// SHA-256 hashers reused from message to message: creating one allocates three objects and a native
/// context, for every message delivered. A hasher is only taken back reset, so what one message
/// hashed never leaks into the next.
/// </summary>
internal static class Sha256Pool
{
    // Enough for the messages of a few groups in flight at once; beyond that they are disposed.
    private const int Capacity = 64;
    private static readonly Stack<IncrementalHash> Idle = new(Capacity);
    private static readonly Lock Gate = new();

    public static IncrementalHash Rent()
    {
        lock (Gate)
        {
            if (Idle.TryPop(out IncrementalHash? hash))
                return hash;
        }

        return IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    }

    /// <summary>Takes <paramref name="hash"/> back; <paramref name="isReset"/> says whether its last call was <c>GetHashAndReset</c> (otherwise what it was fed is discarded here).</summary>
    public static void Return(IncrementalHash hash, bool isReset)
    {
        if (!isReset)
        {
            Span<byte> discard = stackalloc byte[SHA256.HashSizeInBytes];
            hash.GetHashAndReset(discard);
        }

        lock (Gate)
        {
            if (Idle.Count < Capacity)
            {
                Idle.Push(hash);
                return;
            }
        }

        hash.Dispose();
    }
}
