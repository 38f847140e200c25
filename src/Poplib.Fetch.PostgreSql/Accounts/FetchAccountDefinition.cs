using System.Text.Json;
using System.Text.Json.Serialization;
using Poplib.Fetch.Configuration;

namespace Poplib.Fetch.PostgreSql.Accounts;

/// <summary>
/// An account as the database keeps it: its name and its settings in the shape of <c>poplib fetch</c>'s config file
/// (<see cref="FetchAccountOptions"/>, stored as JSON). Passwords are never stored: <c>password</c> names an environment
/// variable or a file, read by the worker that runs the account, so each worker machine must have them.
/// </summary>
/// <param name="Name">The account's name, unique in the database.</param>
/// <param name="Settings">Its settings (host, user, password source, destination, policy, interval…).</param>
public sealed record FetchAccountDefinition(string Name, FetchAccountOptions Settings)
{
    /// <summary>The settings as stored: JSON with the config file's key names.</summary>
    public string ToJson() => JsonSerializer.Serialize(Settings, DefinitionJson.Default.FetchAccountOptions);

    /// <summary>Reads settings written by <see cref="ToJson"/> (unknown keys are an error, as in the config file).</summary>
    /// <param name="name">The account's name.</param>
    /// <param name="json">The stored JSON.</param>
    public static FetchAccountDefinition FromJson(string name, string json)
    {
        try
        {
            return new FetchAccountDefinition(name, JsonSerializer.Deserialize(json, DefinitionJson.Default.FetchAccountOptions)
                ?? throw new JsonException("null"));
        }
        catch (JsonException e)
        {
            throw new FetchException(FetchFailure.Configuration, $"{name}: the stored account definition cannot be read: {e.Message}", e);
        }
    }
}

/// <summary>The JSON shape of stored definitions: camelCase like the config file, nulls left out, unknown keys refused.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(FetchAccountOptions))]
internal sealed partial class DefinitionJson : JsonSerializerContext;
