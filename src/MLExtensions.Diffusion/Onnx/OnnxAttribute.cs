namespace MLExtensions.Diffusion.Onnx;

/// <summary>A named attribute of an ONNX node (e.g. <c>axis</c>, <c>epsilon</c>, <c>transB</c>).</summary>
public sealed class OnnxAttribute
{
    internal enum AttributeKind
    {
        Float = OnnxProtoFields.AttributeType.Float,
        Int = OnnxProtoFields.AttributeType.Int,
        String = OnnxProtoFields.AttributeType.String,
        Tensor = OnnxProtoFields.AttributeType.Tensor,
        Floats = OnnxProtoFields.AttributeType.Floats,
        Ints = OnnxProtoFields.AttributeType.Ints,
    }

    private OnnxAttribute(string name, AttributeKind kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Kind = kind;
    }

    /// <summary>The attribute name.</summary>
    public string Name { get; }

    internal AttributeKind Kind { get; }
    internal float FloatValue { get; private init; }
    internal long IntValue { get; private init; }
    internal string? StringValue { get; private init; }
    internal float[]? FloatsValue { get; private init; }
    internal long[]? IntsValue { get; private init; }
    internal OnnxTensor? TensorValue { get; private init; }

    /// <summary>A single-float attribute.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="value">Finite value.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, or <paramref name="value"/> is not finite.</exception>
    public static OnnxAttribute Float(string name, float value)
    {
        if (!float.IsFinite(value))
            throw new ArgumentException($"Attribute '{name}' must be finite, got {value}.", nameof(value));
        return new OnnxAttribute(name, AttributeKind.Float) { FloatValue = value };
    }

    /// <summary>A single-integer attribute.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="value">Value.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public static OnnxAttribute Int(string name, long value) => new(name, AttributeKind.Int) { IntValue = value };

    /// <summary>A string attribute (written as UTF-8).</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="value">Value.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    public static OnnxAttribute String(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new OnnxAttribute(name, AttributeKind.String) { StringValue = value };
    }

    /// <summary>A list-of-floats attribute.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="values">Finite values.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, or a value is not finite.</exception>
    public static OnnxAttribute Floats(string name, ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new ArgumentException($"Attribute '{name}' value [{i}] must be finite, got {values[i]}.", nameof(values));
        return new OnnxAttribute(name, AttributeKind.Floats) { FloatsValue = values.ToArray() };
    }

    /// <summary>A list-of-integers attribute.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="values">Values.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public static OnnxAttribute Ints(string name, ReadOnlySpan<long> values) =>
        new(name, AttributeKind.Ints) { IntsValue = values.ToArray() };

    internal static OnnxAttribute Tensor(string name, OnnxTensor value) =>
        new(name, AttributeKind.Tensor) { TensorValue = value };
}
