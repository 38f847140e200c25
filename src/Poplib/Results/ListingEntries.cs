using System.Buffers;
using System.Collections;
using System.Runtime.InteropServices;
using Poplib.Commands;

namespace Poplib;

/// <summary>The entries of a LIST or UIDL reply as they are read: parsed from each line and stored compactly.</summary>
internal interface IListingEntries
{
    int Count { get; }

    int NumberAt(int index);

    /// <summary>
    /// Parses one listing line and stores its entry; false when the line is malformed. An entry whose
    /// number does not fit an <see cref="int"/> is not stored: the listing's checks reject it. A
    /// well-formed entry that breaks a rule (a UID outside printable ASCII) says which in
    /// <paramref name="invalid"/>, and is not stored either.
    /// </summary>
    bool TryAdd(ReadOnlySpan<byte> line, out long number, out string? invalid);
}

/// <summary>What the two listings share: a read-only list whose entries are made from compact storage when read.</summary>
internal abstract class ListingEntries<T> : IReadOnlyList<T>, IListingEntries
{
    public abstract int Count { get; }

    public T this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return Entry(index);
        }
    }

    public abstract int NumberAt(int index);

    public abstract bool TryAdd(ReadOnlySpan<byte> line, out long number, out string? invalid);

    public IEnumerator<T> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
            yield return Entry(i);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The entry at <paramref name="index"/>, already checked to be in range.</summary>
    protected abstract T Entry(int index);
}

/// <summary>A LIST reply: 12 bytes an entry, in chunks (see <see cref="ChunkedList{T}"/>).</summary>
internal sealed class Pop3ListEntries : ListingEntries<Pop3ListEntry>
{
    private readonly ChunkedList<Slot> _slots = new();

    public override int Count => _slots.Count;

    public override int NumberAt(int index) => _slots[index].Number;

    public override bool TryAdd(ReadOnlySpan<byte> line, out long number, out string? invalid)
    {
        invalid = null;
        if (!ListingParser.TryParseNumberAndSize(line, out number, out long size))
            return false;
        if (number <= int.MaxValue)
            _slots.Add(new Slot((int)number, size));
        return true;
    }

    protected override Pop3ListEntry Entry(int index)
    {
        Slot slot = _slots[index];
        return new Pop3ListEntry(slot.Number, slot.Size);
    }

    // Packed: 12 bytes rather than the 16 of an aligned int and long.
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private readonly record struct Slot(int Number, long Size);
}

/// <summary>
/// A UIDL reply. The UIDs are kept as the bytes they arrived as, one after the other, and decoded into
/// a string only when an entry is read: a string costs some 60 bytes for a 16-character UID, the
/// bytes 16 (plus 8 for the entry), and most callers look at each entry once.
/// </summary>
internal sealed class Pop3UidlEntries(bool utf8Mode) : ListingEntries<Pop3UidlEntry>
{
    private const int StackScratch = 256;

    private readonly ChunkedList<Slot> _slots = new();
    private readonly ChunkedList<byte> _uids = new();

    public override int Count => _slots.Count;

    public override int NumberAt(int index) => _slots[index].Number;

    public override bool TryAdd(ReadOnlySpan<byte> line, out long number, out string? invalid)
    {
        invalid = null;
        if (!ListingParser.TryParseNumberAndUid(line, out number, out ReadOnlySpan<byte> uid))
            return false;
        invalid = ListingParser.CheckUid(uid, utf8Mode, number);
        if (invalid is null && number <= int.MaxValue)
        {
            _uids.AddRange(uid);
            _slots.Add(new Slot((int)number, _uids.Count));
        }

        return true;
    }

    protected override Pop3UidlEntry Entry(int index)
    {
        Slot slot = _slots[index];
        int start = index == 0 ? 0 : _slots[index - 1].End;
        int length = slot.End - start;
        // Only a UID that straddles two chunks is copied, into the scratch.
        byte[]? rented = length > StackScratch ? ArrayPool<byte>.Shared.Rent(length) : null;
        try
        {
            Span<byte> scratch = rented ?? stackalloc byte[StackScratch];
            return new Pop3UidlEntry(slot.Number, ReplyParser.Decode(_uids.Slice(start, length, scratch), utf8Mode));
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>A message number and where its UID ends; it starts where the previous one ends.</summary>
    private readonly record struct Slot(int Number, int End);
}
