using System.Diagnostics;

namespace Poplib.Fetch.Platform;

/// <summary>
/// What the programs fetch starts (delivery commands, password commands) must not inherit: every
/// environment variable any account of the run reads its password from, and any variable that
/// holds one of the passwords read. A delivery command for one account must not learn another
/// account's password, nor its own: it is given mail, not credentials.
/// </summary>
internal sealed class ChildEnvironment(IEnumerable<string> secretVariables, IEnumerable<string> secrets)
{
    private readonly HashSet<string> _variables = new(secretVariables, StringComparer.Ordinal);
    private readonly HashSet<string> _secrets = new(secrets.Where(s => s.Length > 0), StringComparer.Ordinal);

    public static ChildEnvironment None { get; } = new([], []);

    /// <summary>These variables and secrets and <paramref name="variables"/> and <paramref name="secret"/> too.</summary>
    public ChildEnvironment With(IEnumerable<string> variables, string secret) => new(_variables.Concat(variables), _secrets.Append(secret));

    /// <summary>Removes the secret variables from <paramref name="start"/>'s environment (inherited from ours).</summary>
    public void Scrub(ProcessStartInfo start)
    {
        foreach (string name in start.Environment.Where(e => _variables.Contains(e.Key) || (e.Value is not null && _secrets.Contains(e.Value))).Select(e => e.Key).ToList())
            start.Environment.Remove(name);
    }
}
