namespace Poplib.Fuzz;

/// <summary>
/// One fuzz input: four header bytes that choose the scenario and its parameters, then the bytes the
/// server sends, exactly as they are. Short inputs read as zeros; the server's part is cut at
/// <see cref="MaxServerBytes"/> so that it always fits the loopback socket's buffers at once.
/// </summary>
/// <remarks>
/// byte 0: the scenario (<see cref="Scenario"/>, modulo their count).
/// byte 1: flags — 0x01 async path, 0x02 QueryCapabilities, 0x04 tight limits, 0x08 a pipelining
///         window of 2, 0x10 debug level 2 (else 1), 0x20 insecure login not allowed, 0x40 and 0x80
///         pick a variant of the scenario (0–3).
/// byte 2: the scenario's first parameter (a message number, a SASL mechanism, TOP's line count …).
/// byte 3: the second (a read size, after how many messages a batch is left …).
/// </remarks>
internal readonly struct FuzzInput
{
    public const int HeaderLength = 4;
    public const int MaxServerBytes = 60_000;

    private readonly byte[] _data;
    private readonly int _length;

    public FuzzInput(byte[] data, int length)
    {
        _data = data;
        _length = length;
    }

    private byte Header(int index) => index < _length ? _data[index] : (byte)0;

    public Scenario Scenario => (Scenario)(Header(0) % Scenarios.Count);

    public bool Async => (Header(1) & 0x01) != 0;

    public bool QueryCapabilities => (Header(1) & 0x02) != 0;

    public bool TightLimits => (Header(1) & 0x04) != 0;

    public bool NarrowWindow => (Header(1) & 0x08) != 0;

    public int DebugLevel => (Header(1) & 0x10) != 0 ? 2 : 1;

    public bool AllowInsecure => (Header(1) & 0x20) == 0;

    public int Variant => Header(1) >> 6;

    public byte First => Header(2);

    public byte Second => Header(3);

    /// <summary>What the server sends.</summary>
    public ReadOnlyMemory<byte> Server => _length <= HeaderLength
        ? ReadOnlyMemory<byte>.Empty
        : _data.AsMemory(HeaderLength, Math.Min(_length - HeaderLength, MaxServerBytes));
}

/// <summary>What a fuzz input makes the client do (byte 0 of the input).</summary>
internal enum Scenario
{
    Capabilities,
    Login,
    Apop,
    Sasl,
    OAuth,
    RetrInMemory,
    RetrStreamed,
    Top,
    Batch,
    Stls,
    Listings,
    Misc,
}

internal static class Scenarios
{
    public static readonly int Count = Enum.GetValues<Scenario>().Length;
}
