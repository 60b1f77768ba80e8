using MLExtensions.Diffusion.Numerics;
using MathNet.Numerics;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// A 1-D Gaussian mixture sum_k w_k N(mu_k, s_k^2) with tail-accurate CDF, survival function and quantile: the
/// marginal law of a Gaussian path on 1-D mixture data (SPEC section 8) and the building block of the start
/// perturbations.
/// </summary>
/// <remarks>
/// Quantile levels are passed as tail probabilities: a lower-tail level p (solve F(x) = p) or an upper-tail level s
/// (solve 1 - F(x) = s), so that levels close to 1 keep their precision. The quantile is found by Newton's method on
/// ln F (or ln S) inside the bracket [min_k Q_k, max_k Q_k] of the component quantiles, falling back to bisection.
/// </remarks>
internal sealed class GaussianMixture1D : ILaw1D
{
    private static readonly double LogSqrt2Pi = 0.5 * Math.Log(2 * Math.PI);
    private readonly double[] _w, _mu, _s, _logW;

    public GaussianMixture1D(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> stds)
    {
        double total = 0;
        foreach (double w in weights) total += w;
        _w = new double[weights.Length];
        _logW = new double[weights.Length];
        for (int k = 0; k < weights.Length; k++)
        {
            _w[k] = weights[k] / total;
            _logW[k] = Math.Log(_w[k]);
        }
        _mu = means.ToArray();
        _s = stds.ToArray();
    }

    public int Count => _w.Length;

    public double Weight(int k) => _w[k];

    public double Mean(int k) => _mu[k];

    public double Std(int k) => _s[k];

    /// <summary>The law of m y + sigma eps for y from this mixture: components N(m mu_k, m^2 s_k^2 + sigma^2).</summary>
    public GaussianMixture1D Noised(double m, double sigma)
    {
        var mu = new double[Count];
        var s = new double[Count];
        for (int k = 0; k < Count; k++)
        {
            mu[k] = m * _mu[k];
            s[k] = Math.Sqrt(m * m * _s[k] * _s[k] + sigma * sigma);
        }
        return new GaussianMixture1D(_w, mu, s);
    }

    public double LogDensity(double x)
    {
        Span<double> logs = Count <= 64 ? stackalloc double[Count] : new double[Count];
        for (int k = 0; k < Count; k++) logs[k] = ComponentLogDensity(k, x);
        return ElementaryFunctions.LogSumExp(logs);
    }

    public double Density(double x) => Math.Exp(LogDensity(x));

    public double Cdf(double x)
    {
        double f = 0;
        for (int k = 0; k < Count; k++) f += _w[k] * NormalCdf((x - _mu[k]) / _s[k]);
        return Math.Min(f, 1);
    }

    public double Survival(double x)
    {
        double f = 0;
        for (int k = 0; k < Count; k++) f += _w[k] * NormalCdf((_mu[k] - x) / _s[k]);
        return Math.Min(f, 1);
    }

    /// <summary>The quantile at tail level <paramref name="level"/> (lower tail, or upper tail when <paramref name="upper"/>).</summary>
    public double Quantile(double level, bool upper) => Quantile(level, upper, double.NaN);

    /// <summary>The quantile, with Newton started from <paramref name="guess"/> when it is finite and inside the bracket.</summary>
    public double Quantile(double level, bool upper, double guess)
    {
        if (level <= 0) return upper ? double.PositiveInfinity : double.NegativeInfinity;
        double logTarget = Math.Log(level);
        if (double.IsFinite(guess) && Count > 1)
        {
            // A few plain Newton steps from a nearby guess; fall back to the bracketed search if they do not settle.
            double xg = guess;
            for (int it = 0; it < 6; it++)
            {
                double tail = upper ? Survival(xg) : Cdf(xg);
                double step = (Math.Log(tail) - logTarget) / (Density(xg) / tail * (upper ? -1 : 1));
                if (!double.IsFinite(step)) break;
                xg -= step;
                if (Math.Abs(step) <= 1e-13 * (1 + Math.Abs(xg))) return xg;
            }
        }
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        double z = NormalQuantile(level, upper);
        for (int k = 0; k < Count; k++)
        {
            double q = _mu[k] + _s[k] * z;
            lo = Math.Min(lo, q);
            hi = Math.Max(hi, q);
        }
        if (Count == 1 || hi - lo <= 1e-15 * (1 + Math.Abs(lo))) return lo;
        double x = guess > lo && guess < hi ? guess : 0.5 * (lo + hi);
        for (int it = 0; it < 200; it++)
        {
            double tail = upper ? Survival(x) : Cdf(x);
            double g = Math.Log(tail) - logTarget; // increasing in x for the lower tail, decreasing for the upper
            if (upper ? g > 0 : g < 0) lo = x; else hi = x;
            double dlog = Density(x) / tail * (upper ? -1 : 1);
            double next = x - g / dlog;
            if (!(next > lo && next < hi) || !double.IsFinite(next)) next = 0.5 * (lo + hi);
            if (Math.Abs(next - x) <= 1e-14 * (1 + Math.Abs(x)) || hi - lo <= 1e-14 * (1 + Math.Abs(x))) return next;
            x = next;
        }
        return x;
    }

    private double ComponentLogDensity(int k, double x)
    {
        double z = (x - _mu[k]) / _s[k];
        return _logW[k] - 0.5 * z * z - Math.Log(_s[k]) - LogSqrt2Pi;
    }

    /// <summary>The standard normal CDF Phi(z), accurate in the lower tail.</summary>
    public static double NormalCdf(double z) => 0.5 * SpecialFunctions.Erfc(-z / Math.Sqrt(2));

    /// <summary>The standard normal density phi(z).</summary>
    public static double NormalDensity(double z) => Math.Exp(-0.5 * z * z - LogSqrt2Pi);

    /// <summary>Phi^-1 at a lower-tail level p, or at 1 - s for an upper-tail level s.</summary>
    public static double NormalQuantile(double level, bool upper)
    {
        if (level <= 0) return upper ? double.PositiveInfinity : double.NegativeInfinity;
        if (level >= 1) return upper ? double.NegativeInfinity : double.PositiveInfinity;
        double z = Math.Sqrt(2) * SpecialFunctions.ErfcInv(2 * level);
        return upper ? z : -z;
    }

    /// <summary>Phi^-1(p) for p in (0, 1), routed through the more accurate tail.</summary>
    public static double NormalQuantile(double p) => p <= 0.5 ? NormalQuantile(p, false) : NormalQuantile(1 - p, true);
}
