namespace MLExtensions.Diffusion.Transport;

/// <summary>
/// Argument checks shared by the transport entry points: finite values, non-empty point sets and row-major layouts
/// whose length is a multiple of the dimension. Every failure names the offending argument.
/// </summary>
internal static class PointSetArguments
{
    /// <summary>Throws when <paramref name="dimension"/> is not positive.</summary>
    public static void RequireDimension(int dimension, string paramName = "dimension")
    {
        if (dimension <= 0)
            throw new ArgumentOutOfRangeException(paramName, dimension, $"The dimension '{paramName}' must be positive.");
    }

    /// <summary>Throws when <paramref name="values"/> is empty or holds a NaN or infinite value.</summary>
    public static void RequireFiniteNonEmpty(ReadOnlySpan<double> values, string paramName)
    {
        if (values.IsEmpty)
            throw new ArgumentException($"The argument '{paramName}' must not be empty.", paramName);
        RequireFinite(values, paramName);
    }

    /// <summary>Throws when <paramref name="values"/> holds a NaN or infinite value.</summary>
    public static void RequireFinite(ReadOnlySpan<double> values, string paramName)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
                throw new ArgumentException($"The argument '{paramName}' holds a non-finite value at index {i}.", paramName);
        }
    }

    /// <summary>
    /// Validates a row-major point set of <paramref name="dimension"/> columns and returns its number of rows.
    /// </summary>
    public static int RequirePointSet(ReadOnlySpan<double> points, int dimension, string paramName)
    {
        RequireDimension(dimension);
        RequireFiniteNonEmpty(points, paramName);
        if (points.Length % dimension != 0)
            throw new ArgumentException(
                $"The length of '{paramName}' ({points.Length}) is not a multiple of the dimension ({dimension}).", paramName);
        return points.Length / dimension;
    }

    /// <summary>Throws when a finite scalar argument is NaN or infinite.</summary>
    public static void RequireFinite(double value, string paramName)
    {
        if (!double.IsFinite(value))
            throw new ArgumentException($"The argument '{paramName}' must be finite.", paramName);
    }

    /// <summary>Throws when a scalar argument is not finite and strictly positive.</summary>
    public static void RequirePositive(double value, string paramName)
    {
        if (!double.IsFinite(value) || value <= 0)
            throw new ArgumentOutOfRangeException(paramName, value, $"The argument '{paramName}' must be finite and positive.");
    }

    /// <summary>
    /// Validates probability weights: the expected length, finite, strictly positive entries. Returns the weights
    /// divided by their sum, in a new array.
    /// </summary>
    public static double[] NormalizedWeights(ReadOnlySpan<double> weights, int expectedLength, string paramName)
    {
        if (weights.Length != expectedLength)
            throw new ArgumentException(
                $"The argument '{paramName}' has length {weights.Length}; expected {expectedLength} (one weight per point).", paramName);
        double sum = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            double w = weights[i];
            if (!double.IsFinite(w) || w <= 0)
                throw new ArgumentException($"The argument '{paramName}' must hold finite positive weights (index {i}).", paramName);
            sum += w;
        }
        var result = new double[weights.Length];
        for (int i = 0; i < weights.Length; i++) result[i] = weights[i] / sum;
        return result;
    }
}
