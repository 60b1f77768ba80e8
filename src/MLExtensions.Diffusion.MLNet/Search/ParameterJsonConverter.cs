using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLExtensions.Diffusion.Search;

/// <summary>Writes a <see cref="Parameter"/> as a JSON object of its values, and reads it back.</summary>
internal sealed class ParameterJsonConverter : JsonConverter<Parameter>
{
    public override Parameter Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("A parameter is a JSON object.");
        using var document = JsonDocument.ParseValue(ref reader);
        var values = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (string.IsNullOrWhiteSpace(property.Name)) throw new JsonException("A parameter value has an empty name.");
            if (!values.TryAdd(property.Name, property.Value.Clone())) throw new JsonException($"Parameter name '{property.Name}' is listed twice.");
        }
        return Parameter.FromElements(values);
    }

    public override void Write(Utf8JsonWriter writer, Parameter value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, element) in value.Values)
        {
            writer.WritePropertyName(name);
            element.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}
