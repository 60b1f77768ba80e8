namespace MLExtensions.Diffusion.Numerics;

/// <summary>
/// exp(x) - 1 and ln(1 + x) without cancellation near x = 0, and a log-sum-exp without overflow: the one home of these
/// functions in the library.
/// </summary>
/// <remarks>
/// .NET's <c>double.ExpM1</c> is computed as <c>Exp(x) - 1</c> and MathNet's <c>SpecialFunctions.Expm1</c> truncates its
/// series (about 1e-11 relative error near |x| = 1e-3), so neither serves schedules evaluated at t near 0.
/// </remarks>
internal static class ElementaryFunctions
{
    /// <summary>exp(x) - 1 accurate to a few ulps (Kahan's trick).</summary>
    public static double ExpM1(double x)
    {
        if (Math.Abs(x) > 0.5) return Math.Exp(x) - 1;
        double e = Math.Exp(x);
        if (e == 1.0) return x;
        double em1 = e - 1;
        if (em1 == -1.0) return -1.0;
        return em1 * x / Math.Log(e);
    }

    /// <summary>ln(1 + x) accurate to a few ulps (Goldberg's trick).</summary>
    public static double Log1P(double x)
    {
        double w = 1 + x;
        if (w == 1.0) return x;
        return Math.Log(w) * x / (w - 1);
    }

    /// <summary>ln sum_i exp(v_i) without overflow (shifted by the largest value); negative infinity when every value is
    /// (or when there are none).</summary>
    public static double LogSumExp(ReadOnlySpan<double> values)
    {
        double max = double.NegativeInfinity;
        foreach (double v in values) max = Math.Max(max, v);
        if (double.IsNegativeInfinity(max)) return max;
        double sum = 0;
        foreach (double v in values) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }
}
