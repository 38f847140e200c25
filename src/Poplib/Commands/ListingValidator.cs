namespace Poplib.Commands;

/// <summary>
/// Checks the message numbers of one LIST or UIDL listing as they arrive: each in range, none twice,
/// and no more entries than the limit. Gaps are normal (messages deleted earlier in the session).
/// </summary>
internal struct ListingValidator
{
    private readonly int _maxEntries;
    private readonly int? _messageCount;
    private bool _outOfOrder;
    private int _last;

    /// <param name="maxEntries">The entry cap.</param>
    /// <param name="messageCount">The highest valid number when known (from STAT in this session), else null.</param>
    public ListingValidator(int maxEntries, int? messageCount)
    {
        _maxEntries = maxEntries;
        _messageCount = messageCount;
    }

    /// <summary>
    /// Returns null when <paramref name="number"/> may follow the <paramref name="accepted"/> entries
    /// so far, else a description of what is wrong. Throws when the listing exceeds the entry cap.
    /// </summary>
    public string? Accept(long number, int accepted)
    {
        if (accepted >= _maxEntries)
            throw new Pop3LimitExceededException(nameof(Pop3ClientOptions.MaxListEntries), _maxEntries, "The server sent a listing with more entries than the limit");
        if (number < 1 || number > int.MaxValue || (_messageCount is int max && number > max))
            return $"message number {number} is out of range";

        // Servers list in ascending order, so one comparison shows that no number came twice.
        if (number > _last && !_outOfOrder)
            _last = (int)number;
        else
            _outOfOrder = true;
        return null;
    }

    /// <summary>
    /// Once the listing is complete: null, or which number appears twice. Only a listing out of order
    /// pays for this check, with a sorted copy of its numbers (4 bytes an entry, for a moment) rather
    /// than a set kept while reading (four times that, for as long as the listing grows).
    /// </summary>
    public readonly string? Finish(IListingEntries entries)
    {
        if (!_outOfOrder)
            return null;
        int[] numbers = new int[entries.Count];
        for (int i = 0; i < numbers.Length; i++)
            numbers[i] = entries.NumberAt(i);
        Array.Sort(numbers);
        for (int i = 1; i < numbers.Length; i++)
        {
            if (numbers[i] == numbers[i - 1])
                return $"message number {numbers[i]} appears twice";
        }

        return null;
    }
}
