using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MLExtensions.Diffusion.Search;

/// <summary>
/// One point of a search space: an immutable bag of name -> JSON value, written to JSON as an object.
/// <see cref="To{T}"/> turns it into a typed options object (dotted names fill nested options).
/// </summary>
[JsonConverter(typeof(ParameterJsonConverter))]
public sealed class Parameter : IEquatable<Parameter>
{
    private readonly SortedDictionary<string, JsonElement> _values;

    /// <summary>The parameter with no values.</summary>
    public static Parameter Empty { get; } = new(new SortedDictionary<string, JsonElement>(StringComparer.Ordinal));

    private Parameter(SortedDictionary<string, JsonElement> values) => _values = values;

    /// <summary>A parameter from name -> value pairs (values: anything System.Text.Json writes, or JsonElement).</summary>
    /// <param name="values">The values; names non-empty and distinct.</param>
    /// <returns>The parameter.</returns>
    /// <exception cref="ArgumentException">A name is empty or listed twice.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
    public static Parameter Create(IEnumerable<KeyValuePair<string, object?>> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var dict = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            SearchDimension.CheckName(name);
            if (!dict.TryAdd(name, ToElement(value))) throw new ArgumentException($"Parameter name '{name}' is listed twice.", nameof(values));
        }
        return new Parameter(dict);
    }

    /// <summary>A copy with one value set (added or replaced).</summary>
    /// <param name="name">Non-empty name.</param>
    /// <param name="value">The value (anything System.Text.Json writes, or JsonElement).</param>
    /// <returns>The new parameter.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public Parameter With(string name, object? value)
    {
        SearchDimension.CheckName(name);
        var dict = new SortedDictionary<string, JsonElement>(_values, StringComparer.Ordinal) { [name] = ToElement(value) };
        return new Parameter(dict);
    }

    /// <summary>The names, in ordinal order.</summary>
    public IReadOnlyCollection<string> Names => _values.Keys;

    /// <summary>The number of values.</summary>
    public int Count => _values.Count;

    /// <summary>A value.</summary>
    /// <param name="name">A name of this parameter.</param>
    /// <exception cref="ArgumentException">No value has that name.</exception>
    public JsonElement this[string name] =>
        _values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"The parameter has no value named '{name}'.", nameof(name));

    /// <summary>Whether a value has the name.</summary>
    /// <param name="name">The name.</param>
    /// <param name="value">The value when found.</param>
    /// <returns>True when found.</returns>
    public bool TryGetValue(string name, out JsonElement value) => _values.TryGetValue(name, out value);

    /// <summary>A value as a double.</summary>
    /// <param name="name">A name of this parameter.</param>
    /// <returns>The number.</returns>
    /// <exception cref="ArgumentException">No value has that name, or it is not a number.</exception>
    public double GetDouble(string name) => Get<double>(name);

    /// <summary>A value as an int.</summary>
    /// <param name="name">A name of this parameter.</param>
    /// <returns>The integer.</returns>
    /// <exception cref="ArgumentException">No value has that name, or it is not an int.</exception>
    public int GetInt32(string name) => Get<int>(name);

    /// <summary>A value converted with System.Text.Json.</summary>
    /// <typeparam name="T">The value's type (string, bool, an enum, a number type, ...).</typeparam>
    /// <param name="name">A name of this parameter.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentException">No value has that name, or it does not convert to <typeparamref name="T"/>.</exception>
    public T Get<T>(string name)
    {
        var element = this[name];
        try
        {
            return element.Deserialize<T>(SearchJson.Options)!;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new ArgumentException($"Value {element.GetRawText()} of '{name}' does not convert to {typeof(T).Name}: {e.Message}", nameof(name), e);
        }
    }

    /// <summary>
    /// The typed options object: a JSON object of the values (a dotted name a.b fills property b of the nested object a)
    /// deserialized into <typeparamref name="T"/>; properties without a value keep their defaults.
    /// </summary>
    /// <typeparam name="T">The options class.</typeparam>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">A value does not convert to its property's type, or a name is both a value and a nested object.</exception>
    public T To<T>() where T : new()
    {
        var root = new JsonObject();
        foreach (var (name, value) in _values)
        {
            string[] parts = name.Split('.');
            JsonObject node = root;
            for (int i = 0; i < parts.Length - 1; i++)
            {
                if (node[parts[i]] is null) node[parts[i]] = new JsonObject();
                node = node[parts[i]] as JsonObject ?? throw new ArgumentException($"Parameter name '{name}' nests under '{parts[i]}', which is also a value.", nameof(T));
            }
            if (node[parts[^1]] is not null) throw new ArgumentException($"Parameter name '{name}' is both a value and a nested object.", nameof(T));
            node[parts[^1]] = JsonNode.Parse(value.GetRawText());
        }
        try
        {
            return root.Deserialize<T>(SearchJson.Options) ?? new T();
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"The parameter does not convert to {typeof(T).Name}: {e.Message}", nameof(T), e);
        }
    }

    /// <summary>The parameter as a JSON object.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, SearchJson.Options);

    /// <summary>Reads a parameter written by <see cref="ToJson"/>.</summary>
    /// <param name="json">A JSON object.</param>
    /// <returns>The parameter.</returns>
    /// <exception cref="ArgumentException">The text is not a JSON object.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
    public static Parameter FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonSerializer.Deserialize<Parameter>(json, SearchJson.Options) ?? throw new ArgumentException("The JSON is null, not a parameter object.", nameof(json));
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"The JSON is not a parameter object: {e.Message}", nameof(json), e);
        }
    }

    /// <inheritdoc/>
    public bool Equals(Parameter? other)
    {
        if (other is null || other._values.Count != _values.Count) return false;
        foreach (var (name, value) in _values)
            if (!other._values.TryGetValue(name, out var o) || !JsonElement.DeepEquals(value, o)) return false;
        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Parameter);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var name in _values.Keys) hash.Add(name, StringComparer.Ordinal);
        return hash.ToHashCode();
    }

    /// <summary>The compact JSON object.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => "{" + string.Join(", ", _values.Select(kv => $"\"{kv.Key}\": {kv.Value.GetRawText()}")) + "}";

    internal static Parameter FromElements(SortedDictionary<string, JsonElement> values) => new(values);

    internal IEnumerable<KeyValuePair<string, JsonElement>> Values => _values;

    private static JsonElement ToElement(object? value) =>
        value is JsonElement e ? e.Clone() : JsonSerializer.SerializeToElement(value, SearchJson.Options);
}
