using System.Numerics;
using System.Runtime.CompilerServices;

namespace Poplib;

/// <summary>
/// Append-only storage for listings, in chunks of at most 64 KiB. Growing never copies what is
/// stored: a <see cref="List{T}"/> doubles, and for a listing of millions the old and the new array
/// live side by side, on the large-object heap. The first chunk starts small and doubles up to the
/// chunk size, so a short listing costs no more than a list would.
/// </summary>
internal sealed class ChunkedList<T>
    where T : struct
{
    private const int FirstChunkLength = 16;

    // As many items as fit in 64 KiB, rounded down to a power of two; under the large-object threshold.
    private static readonly int Shift = BitOperations.Log2((uint)(64 * 1024 / Unsafe.SizeOf<T>()));
    private static readonly int ChunkLength = 1 << Shift;

    private readonly List<T[]> _chunks = [];

    public int Count { get; private set; }

    public T this[int index] => _chunks[index >> Shift][index & (ChunkLength - 1)];

    public void Add(T item) => Room(1)[0] = item;

    /// <summary>Appends <paramref name="items"/>, across chunk boundaries if need be.</summary>
    public void AddRange(ReadOnlySpan<T> items)
    {
        while (!items.IsEmpty)
        {
            Span<T> room = Room(items.Length);
            items[..room.Length].CopyTo(room);
            items = items[room.Length..];
        }
    }

    /// <summary>
    /// The items from <paramref name="start"/>: in place when they lie in one chunk, otherwise copied
    /// into <paramref name="scratch"/> (which must hold <paramref name="length"/> items).
    /// </summary>
    public ReadOnlySpan<T> Slice(int start, int length, Span<T> scratch)
    {
        int offset = start & (ChunkLength - 1);
        T[] chunk = _chunks[start >> Shift];
        if (offset + length <= ChunkLength)
            return chunk.AsSpan(offset, length);

        Span<T> result = scratch[..length];
        for (int copied = 0; copied < length; )
        {
            int index = start + copied;
            ReadOnlySpan<T> part = _chunks[index >> Shift].AsSpan(index & (ChunkLength - 1));
            part = part[..Math.Min(part.Length, length - copied)];
            part.CopyTo(result[copied..]);
            copied += part.Length;
        }

        return result;
    }

    // Makes room after the last item for up to `wanted` items, counts them as added, and returns it.
    private Span<T> Room(int wanted)
    {
        int offset = Count & (ChunkLength - 1);
        if (offset == 0 && Count >> Shift == _chunks.Count)
            _chunks.Add(new T[_chunks.Count == 0 ? Math.Min(FirstChunkLength, ChunkLength) : ChunkLength]);
        T[] chunk = _chunks[^1];
        if (_chunks.Count == 1 && chunk.Length < ChunkLength && offset + wanted > chunk.Length)
        {
            Array.Resize(ref chunk, (int)Math.Min(ChunkLength, BitOperations.RoundUpToPowerOf2((uint)(offset + wanted))));
            _chunks[0] = chunk;
        }

        int length = Math.Min(wanted, chunk.Length - offset);
        Count += length;
        return chunk.AsSpan(offset, length);
    }
}
