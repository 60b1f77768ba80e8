namespace MLExtensions.Diffusion.Schedules;

/// <summary>
/// Argument checks shared by the schedules and time grids: finiteness, strict monotonicity of times and the
/// validity condition of SPEC section 1 (sigma/m non-decreasing, i.e. T_t &gt;= 0).
/// </summary>
internal static class ScheduleValidation
{
    /// <summary>Throws unless <paramref name="value"/> is finite and strictly positive.</summary>
    public static void RequireFinitePositive(double value, string paramName)
    {
        if (!double.IsFinite(value) || value <= 0)
            throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' must be finite and positive.");
    }

    /// <summary>Throws unless <paramref name="value"/> lies in the open interval (lo, hi).</summary>
    public static void RequireOpenInterval(double value, double lo, double hi, string paramName)
    {
        if (!(value > lo && value < hi))
            throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' must lie in ({lo}, {hi}).");
    }

    /// <summary>Throws unless every entry of <paramref name="values"/> is finite; the message names the index.</summary>
    public static void RequireAllFinite(ReadOnlySpan<double> values, string paramName)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
                throw new ArgumentException($"'{paramName}' must be finite, but {paramName}[{i}] = {values[i]}.", paramName);
        }
    }

    /// <summary>Throws unless <paramref name="times"/> is strictly increasing; the message names the index.</summary>
    public static void RequireStrictlyIncreasing(ReadOnlySpan<double> times, string paramName)
    {
        for (int i = 1; i < times.Length; i++)
        {
            if (!(times[i] > times[i - 1]))
                throw new ArgumentException(
                    $"'{paramName}' must be strictly increasing, but {paramName}[{i}] = {times[i]} <= {paramName}[{i - 1}] = {times[i - 1]}.",
                    paramName);
        }
    }

    /// <summary>Throws unless <paramref name="times"/> is strictly decreasing; the message names the index.</summary>
    public static void RequireStrictlyDecreasing(ReadOnlySpan<double> times, string paramName)
    {
        for (int i = 1; i < times.Length; i++)
        {
            if (!(times[i] < times[i - 1]))
                throw new ArgumentException(
                    $"'{paramName}' must be strictly decreasing, but {paramName}[{i}] = {times[i]} >= {paramName}[{i - 1}] = {times[i - 1]}.",
                    paramName);
        }
    }

    /// <summary>
    /// Throws unless the noise level sigma/m is non-decreasing along the knots (SPEC section 1: T_t &gt;= 0 exactly
    /// when sigma/m is non-decreasing). A knot with m = 0 has noise level +infinity. The comparison is done as
    /// sigma[i] m[i-1] &gt;= sigma[i-1] m[i] so that it is exact for m = 0.
    /// </summary>
    public static void RequireNonDecreasingNoiseLevel(ReadOnlySpan<double> m, ReadOnlySpan<double> sigma, string paramName)
    {
        for (int i = 1; i < m.Length; i++)
        {
            if (sigma[i] * m[i - 1] < sigma[i - 1] * m[i])
                throw new ArgumentException(
                    $"The noise level sigma/m must be non-decreasing (T_t >= 0, SPEC section 1), but it decreases from index {i - 1} "
                    + $"(sigma/m = {sigma[i - 1] / m[i - 1]}) to index {i} (sigma/m = {sigma[i] / m[i]}).",
                    paramName);
        }
    }
}
