using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Poplib.Testing.Protocol;

/// <summary>
/// Reads the channel binding a client put into its NTLM AUTHENTICATE message ([MS-NLMP] 2.2.1.3,
/// 2.2.2.7: the MsvAvChannelBindings pair of the NTLMv2 response) and compares it with the
/// connection's. Done here because the acceptor on Linux (gss-ntlmssp, through .NET) accepts an
/// exchange whatever binding it carries; the pair is covered by the client's NTProofStr, so the
/// platform's verdict on the password also vouches for the pair read here.
/// </summary>
internal static class NtlmChannelBinding
{
    private const ushort MsvAvEol = 0x0000;
    private const ushort MsvAvChannelBindings = 0x000A;

    // NTProofStr (16 octets), then NTLMv2_CLIENT_CHALLENGE's fixed part (28 octets), then the AV pairs.
    private const int AvPairsOffset = 16 + 28;

    /// <summary>Whether <paramref name="authenticate"/> is bound to the application data <paramref name="endPoint"/> ("tls-server-end-point:" and the hash).</summary>
    public static bool IsBoundTo(ReadOnlySpan<byte> authenticate, ReadOnlySpan<byte> endPoint)
    {
        if (authenticate.Length < 32 || !authenticate[..8].SequenceEqual("NTLMSSP\0"u8) || BinaryPrimitives.ReadUInt32LittleEndian(authenticate[8..]) != 3)
            return false;
        int length = BinaryPrimitives.ReadUInt16LittleEndian(authenticate[20..]);
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(authenticate[24..]);
        if (offset + length > authenticate.Length || length <= AvPairsOffset)
            return false; // not NTLMv2: no place for a binding
        ReadOnlySpan<byte> pairs = authenticate.Slice((int)offset + AvPairsOffset, length - AvPairsOffset);
        byte[] expected = MD5Of(endPoint);
        while (pairs.Length >= 4)
        {
            ushort id = BinaryPrimitives.ReadUInt16LittleEndian(pairs);
            int size = BinaryPrimitives.ReadUInt16LittleEndian(pairs[2..]);
            if (id == MsvAvEol || size > pairs.Length - 4)
                return false;
            if (id == MsvAvChannelBindings)
                return pairs.Slice(4, size).SequenceEqual(expected);
            pairs = pairs[(4 + size)..];
        }

        return false;
    }

    // [MS-NLMP] 3.1.5.1.2 / RFC 4121 4.1.1.2: the MD5 of the gss_channel_bindings structure, no addresses.
    private static byte[] MD5Of(ReadOnlySpan<byte> applicationData)
    {
        byte[] structure = new byte[20 + applicationData.Length];
        BinaryPrimitives.WriteInt32LittleEndian(structure.AsSpan(16), applicationData.Length);
        applicationData.CopyTo(structure.AsSpan(20));
#pragma warning disable CA5351 // MD5 is what [MS-NLMP] specifies for the binding hash; nothing else uses it.
        return MD5.HashData(structure);
#pragma warning restore CA5351
    }
}
