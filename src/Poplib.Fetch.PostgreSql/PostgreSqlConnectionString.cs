using System.Data.Common;
using Npgsql;

namespace Poplib.Fetch.PostgreSql;

/// <summary>Reads the two forms of a PostgreSQL address (a <c>postgres://</c> URL, an Npgsql connection string) and writes them for people without the password.</summary>
public static class PostgreSqlConnectionString
{
    /// <summary>Whether <paramref name="text"/> names a PostgreSQL database (a <c>postgres://</c> or <c>postgresql://</c> URL) rather than a file.</summary>
    /// <param name="text">A <c>--state</c> value.</param>
    public static bool IsUrl(string? text) =>
        text is not null && (text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The Npgsql connection string for <paramref name="text"/>: a URL is translated (user, password, host, port, database,
    /// and the query parameters <c>sslmode</c>, <c>application_name</c>, <c>connect_timeout</c>, <c>options</c>), anything else
    /// is parsed as an Npgsql connection string. Throws <see cref="FetchException"/> (<see cref="FetchFailure.Configuration"/>)
    /// naming what is wrong — with the password masked.
    /// </summary>
    /// <param name="text">The URL or connection string.</param>
    public static NpgsqlConnectionStringBuilder Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            NpgsqlConnectionStringBuilder builder = IsUrl(text) ? FromUrl(text) : new NpgsqlConnectionStringBuilder(text);
            if (string.IsNullOrEmpty(builder.Host))
                throw Error(text, "it names no host");
            return builder;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException or KeyNotFoundException or InvalidCastException)
        {
            throw Error(text, e.Message, e);
        }
    }

    /// <summary>
    /// The URL's <c>schema</c> parameter (<c>postgres://…/db?schema=fleet2</c>: the PostgreSQL schema Poplib's tables live in,
    /// for several independent fleets in one database), or null.
    /// </summary>
    /// <param name="text">The URL or connection string.</param>
    public static string? SchemaOf(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!IsUrl(text) || text.IndexOf('?', StringComparison.Ordinal) is var query && query < 0)
            return null;
        foreach (string pair in text[(query + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            if (kv.Length == 2 && Uri.UnescapeDataString(kv[0]) == "schema")
                return Uri.UnescapeDataString(kv[1]);
        }

        return null;
    }

    /// <summary><paramref name="text"/> as it may be shown: the password replaced by <c>***</c> in either form.</summary>
    /// <param name="text">The URL or connection string.</param>
    public static string Masked(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (IsUrl(text))
        {
            int scheme = text.IndexOf("://", StringComparison.Ordinal) + 3;
            int at = text.IndexOf('@', scheme);
            int colon = at < 0 ? -1 : text.IndexOf(':', scheme, at - scheme);
            return colon < 0 ? text : string.Concat(text.AsSpan(0, colon + 1), "***", text.AsSpan(at));
        }

        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = text };
            foreach (string key in new[] { "password", "pwd" })
            {
                if (builder.ContainsKey(key))
                    builder[key] = "***";
            }

            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return "(a connection string that cannot be parsed)";
        }
    }

    private static NpgsqlConnectionStringBuilder FromUrl(string text)
    {
        var uri = new Uri(text);
        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host.Trim('[', ']') };
        if (uri.Port > 0)
            builder.Port = uri.Port;
        string database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
            builder.Database = database;
        if (uri.UserInfo.Length > 0)
        {
            string[] parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
                builder.Password = Uri.UnescapeDataString(parts[1]);
        }

        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            string key = Uri.UnescapeDataString(kv[0]);
            string value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1].Replace('+', ' ')) : "";
            switch (key)
            {
                case "sslmode":
                    builder.SslMode = Enum.Parse<SslMode>(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true);
                    break;
                case "application_name":
                    builder.ApplicationName = value;
                    break;
                case "connect_timeout":
                    builder.Timeout = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "options":
                    builder.Options = value;
                    break;
                case "schema":
                    break; // Poplib's, not the connection's: SchemaOf
                default:
                    throw new FormatException($"the URL parameter \"{key}\" is not one Poplib knows (sslmode, application_name, connect_timeout, options, schema); use an Npgsql connection string for others");
            }
        }

        return builder;
    }

    private static FetchException Error(string text, string why, Exception? inner = null) =>
        new(FetchFailure.Configuration, $"not a PostgreSQL URL or connection string: {Masked(text)}: {why}", inner);
}
