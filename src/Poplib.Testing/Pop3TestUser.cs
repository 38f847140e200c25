namespace Poplib.Testing;

/// <summary>A user of a <see cref="Pop3TestServer"/>: a name, a password and the mailbox that login opens.</summary>
public sealed class Pop3TestUser
{
    internal Pop3TestUser(string name, string password, IPop3Mailbox mailbox)
    {
        Name = name;
        Password = password;
        Mailbox = mailbox;
    }

    /// <summary>The user name, compared ordinally (case-sensitive).</summary>
    public string Name { get; }

    /// <summary>The password, checked by PASS, APOP and AUTH PLAIN.</summary>
    public string Password { get; }

    /// <summary>The mailbox a login opens. Two users may share one; the lock is per mailbox.</summary>
    public IPop3Mailbox Mailbox { get; }
}
