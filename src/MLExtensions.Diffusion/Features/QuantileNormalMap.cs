using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Features;

/// <summary>
/// The quantile-normal map of one feature, u = Phi^-1(F(x)) with F the training rows' empirical CDF (the "quantile
/// transformer to a normal output" TabDDPM applies to numerical columns; Kotelnikov et al., 2023): piecewise linear
/// between knots (x_k, u_k), monotone, and linear beyond the end knots with the slope of the outer 5 % of knots, so that
/// held-out values outside the training range still map (and have a finite density).
/// </summary>
/// <remarks>The knots are the distinct training values (at most <see cref="MaxKnots"/>, else that many evenly spaced
/// order statistics); a value shared by several rows (a spike) is one knot at the mean of its rows' mid-rank levels
/// p = (rank - 1/2) / n, so u_k = Phi^-1(p_k) is finite and strictly increasing.</remarks>
internal sealed class QuantileNormalMap
{
    /// <summary>The most knots a map keeps (as scikit-learn's QuantileTransformer default, 1000).</summary>
    public const int MaxKnots = 1000;

    private readonly double[] _x, _u;
    private readonly double _lowSlope, _highSlope;

    public QuantileNormalMap(double[] x, double[] u)
    {
        if (x.Length != u.Length || x.Length == 0) throw new ArgumentException("The knots must be non-empty pairs.", nameof(u));
        for (int k = 0; k < x.Length; k++)
        {
            if (!double.IsFinite(x[k]) || !double.IsFinite(u[k])) throw new ArgumentException("The knots must be finite.", nameof(x));
            if (k > 0 && !(x[k] > x[k - 1] && u[k] > u[k - 1])) throw new ArgumentException("The knots must increase strictly.", nameof(x));
        }
        _x = x;
        _u = u;
        if (x.Length == 1)
        {
            _lowSlope = _highSlope = 1;
        }
        else
        {
            int k = Math.Max(1, (x.Length - 1) / 20);
            _lowSlope = (u[k] - u[0]) / (x[k] - x[0]);
            int last = x.Length - 1;
            _highSlope = (u[last] - u[last - k]) / (x[last] - x[last - k]);
        }
    }

    /// <summary>The knots' values in data units (of the feature after its bound map).</summary>
    public IReadOnlyList<double> Values => _x;

    /// <summary>The knots' normal scores.</summary>
    public IReadOnlyList<double> Scores => _u;

    /// <summary>Fits the map to one feature's training values (any order; finite).</summary>
    public static QuantileNormalMap Fit(ReadOnlySpan<double> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        int n = sorted.Length;
        var xs = new List<double>();
        var ps = new List<double>();
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j < n && sorted[j] == sorted[i]) j++;
            // rows i..j-1 share the value; mean of (r + 1/2) / n over them
            xs.Add(sorted[i]);
            ps.Add((i + j) / 2.0 / n);
            i = j;
        }
        if (xs.Count > MaxKnots)
        {
            var keepX = new double[MaxKnots];
            var keepP = new double[MaxKnots];
            for (int k = 0; k < MaxKnots; k++)
            {
                int index = (int)Math.Round(k * (xs.Count - 1.0) / (MaxKnots - 1));
                keepX[k] = xs[index];
                keepP[k] = ps[index];
            }
            xs = [.. keepX];
            ps = [.. keepP];
        }
        var u = new double[xs.Count];
        for (int k = 0; k < u.Length; k++) u[k] = GaussianMixture1D.NormalQuantile(ps[k]);
        if (u.Length == 1) u[0] = 0;
        return new QuantileNormalMap([.. xs], u);
    }

    /// <summary>u of x.</summary>
    public double Forward(double x) => Interpolate(_x, _u, x, _lowSlope, _highSlope);

    /// <summary>x of u.</summary>
    public double Inverse(double u) => Interpolate(_u, _x, u, 1 / _lowSlope, 1 / _highSlope);

    /// <summary>ln du/dx at x (the slope of the segment holding x; at a knot, of the segment to its right).</summary>
    public double LogDerivative(double x)
    {
        int n = _x.Length;
        if (n == 1) return 0;
        if (x < _x[0]) return Math.Log(_lowSlope);
        if (x >= _x[n - 1]) return Math.Log(_highSlope);
        int k = Segment(_x, x);
        return Math.Log((_u[k + 1] - _u[k]) / (_x[k + 1] - _x[k]));
    }

    private static double Interpolate(double[] from, double[] to, double v, double lowSlope, double highSlope)
    {
        int n = from.Length;
        if (n == 1) return to[0] + (v - from[0]) * lowSlope;
        if (v <= from[0]) return to[0] + (v - from[0]) * lowSlope;
        if (v >= from[n - 1]) return to[n - 1] + (v - from[n - 1]) * highSlope;
        int k = Segment(from, v);
        double f = (v - from[k]) / (from[k + 1] - from[k]);
        return to[k] + f * (to[k + 1] - to[k]);
    }

    /// <summary>The k with from[k] &lt;= v &lt; from[k + 1], for v inside the knots.</summary>
    private static int Segment(double[] from, double v)
    {
        int i = Array.BinarySearch(from, v);
        int k = i >= 0 ? i : ~i - 1;
        return Math.Clamp(k, 0, from.Length - 2);
    }
}
