namespace Poplib.Commands;

/// <summary>An entry of a listing that carries a message number.</summary>
internal interface IMessageNumbered
{
    int Number { get; }
}

/// <summary>
/// Checks the message numbers of one LIST or UIDL listing as they arrive: each in range, none twice,
/// and no more entries than the limit. Gaps are normal (messages deleted earlier in the session).
/// </summary>
internal struct ListingValidator
{
    private readonly int _maxEntries;
    private readonly int? _messageCount;
    private HashSet<int>? _seen;
    private int _last;

    /// <param name="maxEntries">The entry cap.</param>
    /// <param name="messageCount">The highest valid number when known (from STAT in this session), else null.</param>
    public ListingValidator(int maxEntries, int? messageCount)
    {
        _maxEntries = maxEntries;
        _messageCount = messageCount;
    }

    /// <summary>
    /// Returns null when <paramref name="number"/> may follow the <paramref name="accepted"/> entries,
    /// else a description of what is wrong. Throws when the listing exceeds the entry cap.
    /// </summary>
    public string? Accept<T>(long number, List<T> accepted)
        where T : IMessageNumbered
    {
        if (accepted.Count >= _maxEntries)
            throw new Pop3LimitExceededException(nameof(Pop3ClientOptions.MaxListEntries), _maxEntries, "The server sent a listing with more entries than the limit");
        if (number < 1 || number > int.MaxValue || (_messageCount is int max && number > max))
            return $"message number {number} is out of range";

        int n = (int)number;
        // Servers list in ascending order, so one comparison usually suffices; only an out-of-order
        // listing pays for a set of what came before.
        if (_seen is null)
        {
            if (n > _last)
            {
                _last = n;
                return null;
            }

            _seen = new HashSet<int>(accepted.Count + 1);
            foreach (T entry in accepted)
                _seen.Add(entry.Number);
        }

        return _seen.Add(n) ? null : $"message number {n} appears twice";
    }
}
