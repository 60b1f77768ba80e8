namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// One dimension of a graph input or output shape: either a fixed size or a symbolic name such as <c>"N"</c>
/// for a batch dimension chosen at run time.
/// </summary>
/// <remarks>Converts implicitly from <see cref="int"/>, <see cref="long"/> and <see cref="string"/>, so shapes read
/// naturally: <c>builder.AddInput("x", OnnxElementType.Float, "N", 4)</c>.</remarks>
public readonly struct OnnxDim : IEquatable<OnnxDim>
{
    private OnnxDim(long value, string? symbol)
    {
        Value = value;
        Symbol = symbol;
    }

    /// <summary>The fixed size, or -1 when the dimension is symbolic.</summary>
    public long Value { get; }

    /// <summary>The symbolic name, or <see langword="null"/> when the dimension is fixed.</summary>
    public string? Symbol { get; }

    /// <summary>Whether this dimension is symbolic.</summary>
    public bool IsSymbolic => Symbol is not null;

    /// <summary>A fixed dimension.</summary>
    /// <param name="value">The size, at least 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative.</exception>
    public static OnnxDim Fixed(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        return new OnnxDim(value, null);
    }

    /// <summary>A symbolic dimension, resolved when the model runs.</summary>
    /// <param name="name">The symbol, e.g. <c>"N"</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    public static OnnxDim Symbolic(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new OnnxDim(-1, name);
    }

    /// <summary>Converts a size to a fixed dimension.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The size is negative.</exception>
    public static implicit operator OnnxDim(long value) => Fixed(value);

    /// <summary>Converts a size to a fixed dimension.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The size is negative.</exception>
    public static implicit operator OnnxDim(int value) => Fixed(value);

    /// <summary>Converts a symbol to a symbolic dimension.</summary>
    /// <exception cref="ArgumentException">The symbol is null, empty or white space.</exception>
    public static implicit operator OnnxDim(string name) => Symbolic(name);

    /// <inheritdoc/>
    public bool Equals(OnnxDim other) => Value == other.Value && Symbol == other.Symbol;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is OnnxDim d && Equals(d);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Value, Symbol);

    /// <summary>Equality of two dimensions.</summary>
    public static bool operator ==(OnnxDim left, OnnxDim right) => left.Equals(right);

    /// <summary>Inequality of two dimensions.</summary>
    public static bool operator !=(OnnxDim left, OnnxDim right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() => Symbol ?? Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
