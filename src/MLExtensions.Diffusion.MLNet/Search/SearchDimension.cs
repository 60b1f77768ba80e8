using System.Globalization;
using System.Text.Json;

namespace MLExtensions.Diffusion.Search;

/// <summary>
/// One named dimension of a <see cref="SearchSpace"/> and its map to the unit interval, where tuners work.
/// </summary>
/// <remarks>
/// Continuous: u = (x - Min) / (Max - Min), or (ln x - ln Min) / (ln Max - ln Min) on a log scale. Integer: the same map,
/// the value rounded to the nearest integer (and clamped to [Min, Max]). Choice: n choices cut [0, 1] into n equal
/// buckets, u in bucket i = min(floor(u n), n - 1) gives choice i, and choice i maps back to its bucket centre (i + 0.5) / n.
/// </remarks>
public sealed class SearchDimension
{
    private readonly JsonElement[] _choices;

    private SearchDimension(string name, DimensionKind kind, double min, double max, bool logScale, double? init, JsonElement[] choices, int defaultChoiceIndex)
    {
        Name = name;
        Kind = kind;
        Min = min;
        Max = max;
        LogScale = logScale;
        Init = init;
        _choices = choices;
        DefaultChoiceIndex = defaultChoiceIndex;
    }

    /// <summary>The dimension's name: the key of its value in a <see cref="Parameter"/> (dots name nested options).</summary>
    public string Name { get; }

    /// <summary>Continuous, integer or choice.</summary>
    public DimensionKind Kind { get; }

    /// <summary>The smallest value of a range (0 for a choice).</summary>
    public double Min { get; }

    /// <summary>The largest value of a range (0 for a choice).</summary>
    public double Max { get; }

    /// <summary>Whether a range maps to the unit interval on a log scale.</summary>
    public bool LogScale { get; }

    /// <summary>A range's initial value, or null (then the default is the value at u = 0.5).</summary>
    public double? Init { get; }

    /// <summary>A choice dimension's candidates as JSON values (empty for a range).</summary>
    public IReadOnlyList<JsonElement> Choices => _choices;

    /// <summary>The index of a choice dimension's default choice (0 for a range).</summary>
    public int DefaultChoiceIndex { get; }

    /// <summary>A continuous range [min, max].</summary>
    /// <param name="name">Non-empty name.</param>
    /// <param name="min">Smallest value, finite; &gt; 0 on a log scale.</param>
    /// <param name="max">Largest value, finite, &gt; <paramref name="min"/>.</param>
    /// <param name="logScale">Map to the unit interval on a log scale.</param>
    /// <param name="init">Optional initial value in [min, max].</param>
    /// <returns>The dimension.</returns>
    /// <exception cref="ArgumentException">Empty name, a non-finite, empty or inverted range, a log range with min &lt;= 0, or init outside the range (the message names the dimension).</exception>
    public static SearchDimension Continuous(string name, double min, double max, bool logScale = false, double? init = null)
    {
        CheckRange(name, min, max, logScale, init);
        return new SearchDimension(name, DimensionKind.Continuous, min, max, logScale, init, [], 0);
    }

    /// <summary>An integer range [min, max].</summary>
    /// <param name="name">Non-empty name.</param>
    /// <param name="min">Smallest value; &gt; 0 on a log scale.</param>
    /// <param name="max">Largest value, &gt; <paramref name="min"/>.</param>
    /// <param name="logScale">Map to the unit interval on a log scale.</param>
    /// <param name="init">Optional initial value in [min, max].</param>
    /// <returns>The dimension.</returns>
    /// <exception cref="ArgumentException">Empty name, an empty or inverted range, a log range with min &lt;= 0, or init outside the range (the message names the dimension).</exception>
    public static SearchDimension Integer(string name, long min, long max, bool logScale = false, long? init = null)
    {
        CheckRange(name, min, max, logScale, init);
        return new SearchDimension(name, DimensionKind.Integer, min, max, logScale, init, [], 0);
    }

    /// <summary>A choice among candidates (strings, numbers, booleans, enums: anything System.Text.Json writes).</summary>
    /// <param name="name">Non-empty name.</param>
    /// <param name="choices">At least one candidate, no two equal as JSON.</param>
    /// <param name="defaultValue">Optional default, one of the choices; the first choice when null.</param>
    /// <returns>The dimension.</returns>
    /// <exception cref="ArgumentException">Empty name, no choices, duplicate choices, or a default that is not a choice (the message names the dimension).</exception>
    /// <exception cref="ArgumentNullException"><paramref name="choices"/> is null.</exception>
    public static SearchDimension Choice(string name, IEnumerable<object?> choices, object? defaultValue = null)
    {
        ArgumentNullException.ThrowIfNull(choices);
        var elements = choices.Select(c => c is JsonElement e ? e.Clone() : JsonSerializer.SerializeToElement(c, SearchJson.Options)).ToArray();
        JsonElement? def = defaultValue is null ? null : defaultValue is JsonElement d ? d : JsonSerializer.SerializeToElement(defaultValue, SearchJson.Options);
        return ChoiceOfElements(name, elements, def);
    }

    internal static SearchDimension ChoiceOfElements(string name, JsonElement[] choices, JsonElement? defaultValue)
    {
        CheckName(name);
        if (choices.Length == 0) throw new ArgumentException($"Choice dimension '{name}' has no choices.", nameof(choices));
        for (int i = 0; i < choices.Length; i++)
            for (int j = 0; j < i; j++)
                if (JsonElement.DeepEquals(choices[i], choices[j]))
                    throw new ArgumentException($"Choice dimension '{name}' lists the choice {choices[i].GetRawText()} twice.", nameof(choices));
        int index = 0;
        if (defaultValue is { } d)
        {
            index = Array.FindIndex(choices, c => JsonElement.DeepEquals(c, d));
            if (index < 0) throw new ArgumentException($"The default {d.GetRawText()} of choice dimension '{name}' is not one of its choices.", nameof(defaultValue));
        }
        return new SearchDimension(name, DimensionKind.Choice, 0, 0, false, null, choices, index);
    }

    /// <summary>The number of distinct values (choices or integers); null for a continuous range.</summary>
    public long? Cardinality => Kind switch
    {
        DimensionKind.Choice => _choices.Length,
        DimensionKind.Integer => (long)(Max - Min) + 1,
        _ => null,
    };

    /// <summary>The dimension's default value: its init, its default choice, or the value at u = 0.5.</summary>
    public JsonElement DefaultValue => Kind switch
    {
        DimensionKind.Choice => _choices[DefaultChoiceIndex],
        _ => Init is { } init ? Number(init) : FromFeature(0.5),
    };

    /// <summary>The value at a point of the unit interval.</summary>
    /// <param name="u">A number in [0, 1].</param>
    /// <returns>The value as JSON (a number, or the choice).</returns>
    /// <exception cref="ArgumentException"><paramref name="u"/> is NaN or outside [0, 1].</exception>
    public JsonElement FromFeature(double u)
    {
        if (!(u >= 0 && u <= 1)) throw new ArgumentException($"Feature {u} of dimension '{Name}' is not in [0, 1].", nameof(u));
        if (Kind == DimensionKind.Choice) return _choices[Math.Min((int)(u * _choices.Length), _choices.Length - 1)];
        double x = LogScale ? Math.Exp(Math.Log(Min) + u * (Math.Log(Max) - Math.Log(Min))) : Min + u * (Max - Min);
        x = Math.Clamp(x, Min, Max);
        return Kind == DimensionKind.Integer ? Number(Math.Round(x, MidpointRounding.AwayFromZero)) : Number(x);
    }

    /// <summary>The point of the unit interval of a value (a choice's bucket centre).</summary>
    /// <param name="value">A value of this dimension.</param>
    /// <returns>u in [0, 1].</returns>
    /// <exception cref="ArgumentException">The value is not a number in the range, not an integer for an integer range, or not one of the choices (the message names the dimension).</exception>
    public double ToFeature(JsonElement value)
    {
        if (Kind == DimensionKind.Choice)
        {
            int index = IndexOf(value);
            if (index < 0) throw new ArgumentException($"Value {value.GetRawText()} of dimension '{Name}' is not one of its choices ({string.Join(", ", _choices.Select(c => c.GetRawText()))}).", nameof(value));
            return (index + 0.5) / _choices.Length;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double x) || !double.IsFinite(x))
            throw new ArgumentException($"Value {value.GetRawText()} of dimension '{Name}' is not a finite number.", nameof(value));
        double tolerance = 1e-9 * Math.Max(1, Math.Max(Math.Abs(Min), Math.Abs(Max)));
        if (x < Min - tolerance || x > Max + tolerance)
            throw new ArgumentException($"Value {x.ToString(CultureInfo.InvariantCulture)} of dimension '{Name}' is outside [{Min.ToString(CultureInfo.InvariantCulture)}, {Max.ToString(CultureInfo.InvariantCulture)}].", nameof(value));
        if (Kind == DimensionKind.Integer && x != Math.Round(x))
            throw new ArgumentException($"Value {x.ToString(CultureInfo.InvariantCulture)} of integer dimension '{Name}' is not an integer.", nameof(value));
        x = Math.Clamp(x, Min, Max);
        return LogScale ? (Math.Log(x) - Math.Log(Min)) / (Math.Log(Max) - Math.Log(Min)) : (x - Min) / (Max - Min);
    }

    /// <summary>The index of a choice, or -1.</summary>
    internal int IndexOf(JsonElement value) => Array.FindIndex(_choices, c => JsonElement.DeepEquals(c, value));

    internal static JsonElement Number(double x) =>
        x == Math.Round(x) && Math.Abs(x) < 9e15 ? JsonSerializer.SerializeToElement((long)x) : JsonSerializer.SerializeToElement(x);

    internal static void CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A search dimension needs a non-empty name.", nameof(name));
    }

    private static void CheckRange(string name, double min, double max, bool logScale, double? init)
    {
        CheckName(name);
        if (!double.IsFinite(min) || !double.IsFinite(max))
            throw new ArgumentException($"Range dimension '{name}' has a non-finite bound [{min}, {max}].", nameof(min));
        if (!(min < max))
            throw new ArgumentException($"Range dimension '{name}' is empty or inverted: min {min.ToString(CultureInfo.InvariantCulture)} is not below max {max.ToString(CultureInfo.InvariantCulture)}.", nameof(max));
        if (logScale && min <= 0)
            throw new ArgumentException($"Log-scale range dimension '{name}' needs min > 0, not {min.ToString(CultureInfo.InvariantCulture)}.", nameof(min));
        if (init is { } i && !(i >= min && i <= max))
            throw new ArgumentException($"Init {i.ToString(CultureInfo.InvariantCulture)} of range dimension '{name}' is outside [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}].", nameof(init));
    }
}
