using System.Reflection;
using System.Text.Json;
using Microsoft.ML.SearchSpace;

namespace MLExtensions.Diffusion.Search;

/// <summary>
/// An ordered set of named dimensions (ranges and choices), each mapped to [0, 1], so that a point of the space is a
/// feature vector in the unit cube (one coordinate per dimension, in order) and a <see cref="Parameter"/>.
/// </summary>
/// <remarks>
/// Build it by hand (<see cref="AddRange"/>, <see cref="AddIntegerRange"/>, <see cref="AddChoice"/>,
/// <see cref="AddBooleanChoice"/>) or from an options class whose properties carry Microsoft.ML.SearchSpace's
/// <see cref="RangeAttribute"/>, <see cref="ChoiceAttribute"/>, <see cref="BooleanChoiceAttribute"/> and
/// <see cref="NestOptionAttribute"/> (<see cref="FromType{T}"/>); <see cref="Parameter.To{T}"/> turns a point back into
/// that class.
/// </remarks>
public sealed class SearchSpace
{
    private readonly List<SearchDimension> _dimensions = [];

    /// <summary>The dimensions, in feature order.</summary>
    public IReadOnlyList<SearchDimension> Dimensions => _dimensions;

    /// <summary>The number of dimensions (the feature length).</summary>
    public int Count => _dimensions.Count;

    /// <summary>A dimension by name.</summary>
    /// <param name="name">A dimension's name.</param>
    /// <exception cref="ArgumentException">No dimension has that name.</exception>
    public SearchDimension this[string name] =>
        _dimensions.Find(d => d.Name == name) ?? throw new ArgumentException($"The search space has no dimension named '{name}'.", nameof(name));

    /// <summary>Adds a dimension.</summary>
    /// <param name="dimension">The dimension; its name not yet used.</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">A dimension already has the name.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="dimension"/> is null.</exception>
    public SearchSpace Add(SearchDimension dimension)
    {
        ArgumentNullException.ThrowIfNull(dimension);
        if (_dimensions.Exists(d => d.Name == dimension.Name))
            throw new ArgumentException($"The search space already has a dimension named '{dimension.Name}'.", nameof(dimension));
        _dimensions.Add(dimension);
        return this;
    }

    /// <summary>Adds a continuous range (see <see cref="SearchDimension.Continuous"/>).</summary>
    /// <param name="name">A new, non-empty name.</param>
    /// <param name="min">Smallest value; &gt; 0 on a log scale.</param>
    /// <param name="max">Largest value, &gt; min.</param>
    /// <param name="logScale">Map on a log scale.</param>
    /// <param name="init">Optional initial value.</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">A duplicate or empty name, an empty or inverted range, a log range with min &lt;= 0, or init outside the range.</exception>
    public SearchSpace AddRange(string name, double min, double max, bool logScale = false, double? init = null) =>
        Add(SearchDimension.Continuous(name, min, max, logScale, init));

    /// <summary>Adds an integer range (see <see cref="SearchDimension.Integer"/>).</summary>
    /// <param name="name">A new, non-empty name.</param>
    /// <param name="min">Smallest value; &gt; 0 on a log scale.</param>
    /// <param name="max">Largest value, &gt; min.</param>
    /// <param name="logScale">Map on a log scale.</param>
    /// <param name="init">Optional initial value.</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">A duplicate or empty name, an empty or inverted range, a log range with min &lt;= 0, or init outside the range.</exception>
    public SearchSpace AddIntegerRange(string name, long min, long max, bool logScale = false, long? init = null) =>
        Add(SearchDimension.Integer(name, min, max, logScale, init));

    /// <summary>Adds a choice (see <see cref="SearchDimension.Choice"/>); the first candidate is the default.</summary>
    /// <param name="name">A new, non-empty name.</param>
    /// <param name="choices">At least one candidate, no duplicates.</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">A duplicate or empty name, no choices, or duplicate choices.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="choices"/> is null.</exception>
    public SearchSpace AddChoice(string name, params object?[] choices) => Add(SearchDimension.Choice(name, choices));

    /// <summary>Adds the choice false / true.</summary>
    /// <param name="name">A new, non-empty name.</param>
    /// <param name="defaultValue">The default.</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">A duplicate or empty name.</exception>
    public SearchSpace AddBooleanChoice(string name, bool defaultValue = false) =>
        Add(SearchDimension.Choice(name, [false, true], defaultValue));

    /// <summary>The space of an options class's attributed properties (see <see cref="FromType(Type)"/>).</summary>
    /// <typeparam name="T">The options class.</typeparam>
    /// <returns>The space.</returns>
    /// <exception cref="ArgumentException">See <see cref="FromType(Type)"/>.</exception>
    public static SearchSpace FromType<T>() => FromType(typeof(T));

    /// <summary>
    /// The space of an options class: one dimension per public property with [Range] (integer when the property is an
    /// integer type, else continuous), [Choice] or [BooleanChoice] (a bool property); a [NestOption] property adds its own
    /// class's dimensions named "Property.Inner". Properties without these attributes are not searched.
    /// </summary>
    /// <param name="optionsType">The options class.</param>
    /// <returns>The space.</returns>
    /// <exception cref="ArgumentException">An attribute on a property of the wrong type, an invalid range or choice list (the message names the property), or no attributed property.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="optionsType"/> is null.</exception>
    public static SearchSpace FromType(Type optionsType)
    {
        ArgumentNullException.ThrowIfNull(optionsType);
        var space = new SearchSpace();
        AddProperties(space, optionsType, "", 0);
        if (space.Count == 0) throw new ArgumentException($"Type {optionsType.Name} has no property with a Range, Choice, BooleanChoice or NestOption attribute.", nameof(optionsType));
        return space;
    }

    private static void AddProperties(SearchSpace space, Type type, string prefix, int depth)
    {
        if (depth > 16) throw new ArgumentException($"Nested options under '{prefix}' are deeper than 16 levels (a cycle?).", nameof(type));
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken))
        {
            string name = prefix + property.Name;
            Type t = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (property.GetCustomAttribute<RangeAttribute>() is { } range)
            {
                double min = Convert.ToDouble(range.Min, System.Globalization.CultureInfo.InvariantCulture);
                double max = Convert.ToDouble(range.Max, System.Globalization.CultureInfo.InvariantCulture);
                double? init = range.Init is null ? null : Convert.ToDouble(range.Init, System.Globalization.CultureInfo.InvariantCulture);
                if (t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(byte) || t == typeof(uint) || t == typeof(ushort) || t == typeof(sbyte))
                {
                    if (min != Math.Round(min) || max != Math.Round(max)) throw new ArgumentException($"Integer property '{name}' has a Range with non-integer bounds.", nameof(type));
                    space.AddIntegerRange(name, (long)min, (long)max, range.LogBase, init is { } i ? (long)Math.Round(i) : null);
                }
                else if (t == typeof(double) || t == typeof(float) || t == typeof(decimal))
                    space.AddRange(name, min, max, range.LogBase, init);
                else
                    throw new ArgumentException($"Property '{name}' has a Range attribute but is of non-numeric type {t.Name}.", nameof(type));
            }
            else if (property.GetCustomAttribute<ChoiceAttribute>() is { } choice)
                space.Add(SearchDimension.Choice(name, choice.Candidates ?? [], choice.DefaultValue));
            else if (property.GetCustomAttribute<BooleanChoiceAttribute>() is { } boolean)
            {
                if (t != typeof(bool)) throw new ArgumentException($"Property '{name}' has a BooleanChoice attribute but is of type {t.Name}, not bool.", nameof(type));
                space.AddBooleanChoice(name, boolean.DefaultValue);
            }
            else if (property.GetCustomAttribute<NestOptionAttribute>() is not null)
                AddProperties(space, t, name + ".", depth + 1);
        }
    }

    /// <summary>The point at a feature vector of the unit cube.</summary>
    /// <param name="feature">One number in [0, 1] per dimension, in order.</param>
    /// <returns>The parameter.</returns>
    /// <exception cref="ArgumentException">The length is not <see cref="Count"/>, or a coordinate is NaN or outside [0, 1] (the message names its dimension).</exception>
    public Parameter Sample(ReadOnlySpan<double> feature)
    {
        if (feature.Length != Count) throw new ArgumentException($"The feature has {feature.Length} coordinates; the search space has {Count} dimensions.", nameof(feature));
        var values = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
        for (int i = 0; i < Count; i++) values[_dimensions[i].Name] = _dimensions[i].FromFeature(feature[i]);
        return Parameter.FromElements(values);
    }

    /// <summary>The typed options object at a feature vector: <c>Sample(feature).To&lt;T&gt;()</c>.</summary>
    /// <typeparam name="T">The options class.</typeparam>
    /// <param name="feature">One number in [0, 1] per dimension, in order.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">See <see cref="Sample(ReadOnlySpan{double})"/> and <see cref="Parameter.To{T}"/>.</exception>
    public T Sample<T>(ReadOnlySpan<double> feature) where T : new() => Sample(feature).To<T>();

    /// <summary>The feature vector of a point (a choice maps to its bucket centre); values of other names are ignored.</summary>
    /// <param name="parameter">A parameter with a valid value for every dimension.</param>
    /// <returns>One number in [0, 1] per dimension, in order.</returns>
    /// <exception cref="ArgumentException">A dimension's value is missing, out of range, not an integer, or not one of its choices (the message names the dimension).</exception>
    /// <exception cref="ArgumentNullException"><paramref name="parameter"/> is null.</exception>
    public double[] MapToFeature(Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        var feature = new double[Count];
        for (int i = 0; i < Count; i++)
        {
            var d = _dimensions[i];
            if (!parameter.TryGetValue(d.Name, out var value)) throw new ArgumentException($"The parameter has no value for dimension '{d.Name}'.", nameof(parameter));
            feature[i] = d.ToFeature(value);
        }
        return feature;
    }

    /// <summary>Checks that a parameter is a point of this space.</summary>
    /// <param name="parameter">The parameter.</param>
    /// <exception cref="ArgumentException">See <see cref="MapToFeature"/>.</exception>
    public void Validate(Parameter parameter) => MapToFeature(parameter);

    /// <summary>The default point: each range's init (or its value at u = 0.5) and each choice's default.</summary>
    /// <returns>The parameter.</returns>
    public Parameter Default()
    {
        var values = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var d in _dimensions) values[d.Name] = d.DefaultValue;
        return Parameter.FromElements(values);
    }

    /// <summary>The space as JSON: an array of dimensions.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(_dimensions.Select(DimensionJson.Of).ToArray(), SearchJson.Options);

    /// <summary>Reads a space written by <see cref="ToJson"/>, validating every dimension again.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The space.</returns>
    /// <exception cref="ArgumentException">The text is not such an array, or a dimension is invalid (the message names it).</exception>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
    public static SearchSpace FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        DimensionJson[]? dims;
        try
        {
            dims = JsonSerializer.Deserialize<DimensionJson[]>(json, SearchJson.Options);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"The JSON is not a search space: {e.Message}", nameof(json), e);
        }
        if (dims is null) throw new ArgumentException("The JSON is null, not a search space.", nameof(json));
        var space = new SearchSpace();
        foreach (var d in dims) space.Add(d.ToDimension());
        return space;
    }

    /// <summary>The JSON shape of one dimension.</summary>
    internal sealed record DimensionJson(string Name, DimensionKind Kind, double? Min, double? Max, bool LogScale, double? Init, JsonElement[]? Choices, JsonElement? Default)
    {
        public static DimensionJson Of(SearchDimension d) => d.Kind == DimensionKind.Choice
            ? new DimensionJson(d.Name, d.Kind, null, null, false, null, d.Choices.ToArray(), d.Choices[d.DefaultChoiceIndex])
            : new DimensionJson(d.Name, d.Kind, d.Min, d.Max, d.LogScale, d.Init, null, null);

        public SearchDimension ToDimension()
        {
            string name = Name ?? "";
            switch (Kind)
            {
                case DimensionKind.Choice:
                    return SearchDimension.ChoiceOfElements(name, Choices ?? [], Default);
                case DimensionKind.Integer:
                case DimensionKind.Continuous:
                    if (Min is not { } min || Max is not { } max) throw new ArgumentException($"Range dimension '{name}' has no Min or Max in the JSON.", nameof(Min));
                    if (Kind == DimensionKind.Continuous) return SearchDimension.Continuous(name, min, max, LogScale, Init);
                    if (min != Math.Round(min) || max != Math.Round(max)) throw new ArgumentException($"Integer dimension '{name}' has non-integer bounds.", nameof(Min));
                    return SearchDimension.Integer(name, (long)min, (long)max, LogScale, Init is { } i ? (long)Math.Round(i) : null);
                default:
                    throw new ArgumentException($"Dimension '{name}' has unknown kind {Kind}.", nameof(Kind));
            }
        }
    }
}
