namespace Poplib.Testing;

/// <summary>How a <see cref="Pop3TestServer"/> offers TLS.</summary>
public enum Pop3TlsMode
{
    /// <summary>Plain TCP only; STLS is neither advertised nor accepted.</summary>
    None,

    /// <summary>Plain TCP with STLS (RFC 2595) advertised in CAPA until the connection is encrypted.</summary>
    StartTls,

    /// <summary>TLS from the first byte, as on port 995 (RFC 8314); STLS is not offered.</summary>
    Implicit,
}
