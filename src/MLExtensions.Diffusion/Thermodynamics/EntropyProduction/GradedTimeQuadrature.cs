using MathNet.Numerics.Integration;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// A composite Gauss-Legendre rule in time on [a + delta, b - delta], delta = endCutoff (b - a), whose panels shrink
/// geometrically (ratio 3) toward both ends and are uniform in the middle. Used for every time integral of the
/// thermodynamics code (kinetic cost, entropy production, path length).
/// </summary>
/// <remarks>
/// <para>Why graded: at the ends of a schedule the integrands vary on the scale of the distance to the end (T_t -&gt; 0 at
/// t = 0 for cosine, cond-OT and VE, so Sdot = kinetic / T is a ratio of two vanishing quantities; T_t -&gt; infinity at the
/// singular end of cosine and cond-OT). Geometric panels resolve any such power or logarithmic behaviour with a
/// fixed number of panels per decade.</para>
/// <para>Why a cut-off: the rule never evaluates the integrand in the two end slivers of relative width
/// <c>endCutoff</c>. For a bounded integrand this changes the integral by at most endCutoff (b - a) sup|g| per end. For
/// an integrand that is not integrable at an end (the entropy production rate of a schedule with T_0 = 0 and mdot_0 != 0,
/// e.g. cond-OT, behaves like 1/t) the result is the integral over the cut interval, which grows like ln(1/endCutoff):
/// callers report the integrated interval so that this is visible.</para>
/// </remarks>
internal sealed class GradedTimeQuadrature
{
    /// <summary>Gauss-Legendre points per panel.</summary>
    public const int Order = 8;

    private const double Ratio = 3.0;

    private GradedTimeQuadrature(double lower, double upper, double[] nodes, double[] weights)
    {
        Lower = lower;
        Upper = upper;
        Nodes = nodes;
        Weights = weights;
    }

    /// <summary>The lower end of the integrated interval, a + delta.</summary>
    public double Lower { get; }

    /// <summary>The upper end of the integrated interval, b - delta.</summary>
    public double Upper { get; }

    /// <summary>The nodes, increasing, all strictly inside (Lower, Upper).</summary>
    public double[] Nodes { get; }

    /// <summary>The weights; they sum to Upper - Lower.</summary>
    public double[] Weights { get; }

    /// <summary>Panel edges graded toward both ends of [a, b]: a + delta, ..., b - delta.</summary>
    public static double[] Edges(double a, double b, double endCutoff, int middlePanels)
    {
        double width = b - a, delta = endCutoff * width;
        var left = new List<double>();
        for (double e = delta; e < 0.25 * width; e *= Ratio) left.Add(e);
        var edges = new List<double>(2 * left.Count + middlePanels + 1);
        foreach (double e in left) edges.Add(a + e);
        double mLo = a + 0.25 * width, mHi = b - 0.25 * width;
        for (int k = 0; k <= middlePanels; k++) edges.Add(mLo + (mHi - mLo) * k / middlePanels);
        for (int i = left.Count - 1; i >= 0; i--) edges.Add(b - left[i]);
        return edges.ToArray();
    }

    /// <summary>Builds the rule on [a, b] with relative end cut-off <paramref name="endCutoff"/> in (0, 0.01].</summary>
    public static GradedTimeQuadrature Create(double a, double b, double endCutoff, int middlePanels = 16)
    {
        double[] edges = Edges(a, b, endCutoff, middlePanels);
        var rule = new GaussLegendreRule(-1, 1, Order);
        double[] x = rule.Abscissas, w = rule.Weights;
        int panels = edges.Length - 1;
        var nodes = new double[panels * Order];
        var weights = new double[panels * Order];
        for (int p = 0; p < panels; p++)
        {
            double lo = edges[p], hi = edges[p + 1], half = 0.5 * (hi - lo), mid = 0.5 * (hi + lo);
            for (int j = 0; j < Order; j++)
            {
                nodes[p * Order + j] = mid + half * x[j];
                weights[p * Order + j] = half * w[j];
            }
        }
        // Gauss-Legendre abscissas from MathNet are ordered; keep the global order increasing regardless.
        Array.Sort(nodes, weights);
        return new GradedTimeQuadrature(edges[0], edges[^1], nodes, weights);
    }

    /// <summary>Validates an integration interval inside [0, maxTime] and the cut-off.</summary>
    public static void Validate(double tStart, double tEnd, double maxTime, double endCutoff, string scheduleName)
    {
        if (!double.IsFinite(tStart) || tStart < 0 || tStart >= maxTime)
            throw new ArgumentOutOfRangeException(nameof(tStart), tStart, $"'tStart' must be finite and lie in [0, {maxTime}) (MaxTime of '{scheduleName}').");
        if (!double.IsFinite(tEnd) || tEnd <= tStart || tEnd > maxTime)
            throw new ArgumentOutOfRangeException(nameof(tEnd), tEnd, $"'tEnd' must be finite and lie in (tStart = {tStart}, {maxTime}] (MaxTime of '{scheduleName}').");
        if (!double.IsFinite(endCutoff) || endCutoff <= 0 || endCutoff > 0.01)
            throw new ArgumentOutOfRangeException(nameof(endCutoff), endCutoff, "'endCutoff' must lie in (0, 0.01].");
    }
}
