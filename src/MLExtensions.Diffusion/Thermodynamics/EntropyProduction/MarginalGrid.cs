using MLExtensions.Diffusion.Denoisers;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The x-range used to integrate over a one-dimensional marginal P_t (the law of m y + sigma eps, y ~ q) by uniform
/// quadrature: [m yLo - 10 sigma, m yHi + 10 sigma] (for m y of either sign), with [yLo, yHi] covering the data law.
/// </summary>
/// <remarks>
/// Without explicit data bounds, [yLo, yHi] is [min - w/2, max + w/2] of 4096 draws from q (fixed seed, so the range is
/// deterministic), w = max - min. For a Gaussian this reaches about 7.8 standard deviations past the mean on each side,
/// where the density is below e^-30 of its peak; mixtures and other light-tailed laws are covered likewise. Heavy-tailed
/// data need explicit bounds.
/// </remarks>
internal sealed class MarginalGrid
{
    private const int BoundSamples = 4096;
    private const int BoundSeed = 20240704;

    /// <summary>Smallest number of uniform points tried.</summary>
    public const int MinPoints = 1025;

    /// <summary>Largest number of uniform points tried.</summary>
    public const int MaxPoints = (1 << 17) + 1;

    private MarginalGrid(double lower, double upper)
    {
        DataLower = lower;
        DataUpper = upper;
    }

    /// <summary>Lower end of the data range.</summary>
    public double DataLower { get; }

    /// <summary>Upper end of the data range.</summary>
    public double DataUpper { get; }

    /// <summary>The data range of a one-dimensional density, estimated from draws (see remarks).</summary>
    public static MarginalGrid For(IMarginalDensity density, string paramName)
    {
        ArgumentNullException.ThrowIfNull(density, paramName);
        if (density.Dimension != 1)
            throw new ArgumentException($"Exact quadrature needs a one-dimensional density, but '{paramName}' has dimension {density.Dimension}; use the Monte Carlo overloads.", paramName);
        var y = new double[BoundSamples];
        density.SampleData(new Random(BoundSeed), y);
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (double v in y)
        {
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        double w = Math.Max(hi - lo, 1e-12 * Math.Max(1, Math.Abs(lo)));
        return new MarginalGrid(lo - 0.5 * w, hi + 0.5 * w);
    }

    /// <summary>The x-range for noise level (m, sigma).</summary>
    public (double Lower, double Upper) Range(double m, double sigma)
    {
        double a = m * DataLower, b = m * DataUpper;
        return (Math.Min(a, b) - 10 * sigma, Math.Max(a, b) + 10 * sigma);
    }

    /// <summary>The union of the x-ranges for two noise levels.</summary>
    public (double Lower, double Upper) Range(double m1, double sigma1, double m2, double sigma2)
    {
        var (a1, b1) = Range(m1, sigma1);
        var (a2, b2) = Range(m2, sigma2);
        return (Math.Min(a1, a2), Math.Max(b1, b2));
    }

    /// <summary>Fills <paramref name="x"/> with points uniform on [lower, upper] and returns the spacing.</summary>
    public static double Fill(double lower, double upper, Span<double> x)
    {
        double h = (upper - lower) / (x.Length - 1);
        for (int i = 0; i < x.Length; i++) x[i] = lower + h * i;
        return h;
    }

    /// <summary>
    /// The CDF of a density tabulated at uniform spacing h by the cumulative trapezoid rule, normalised by the total,
    /// written as F below the median index and as 1 - G above it, where G is cumulated from the right (so that both tails
    /// keep their relative accuracy). <paramref name="lowerTail"/>[i] is F(x_i); <paramref name="upperTail"/>[i] is 1 - F(x_i).
    /// </summary>
    public static void Cdf(ReadOnlySpan<double> p, Span<double> lowerTail, Span<double> upperTail)
    {
        int n = p.Length;
        lowerTail[0] = 0;
        for (int i = 1; i < n; i++) lowerTail[i] = lowerTail[i - 1] + 0.5 * (p[i - 1] + p[i]);
        upperTail[n - 1] = 0;
        for (int i = n - 2; i >= 0; i--) upperTail[i] = upperTail[i + 1] + 0.5 * (p[i] + p[i + 1]);
        double total = lowerTail[n - 1];
        for (int i = 0; i < n; i++)
        {
            lowerTail[i] /= total;
            upperTail[i] /= total;
        }
    }
}
