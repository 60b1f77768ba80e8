using System.Buffers;

namespace MLExtensions.Diffusion.Transport;

/// <summary>
/// Exact and quadrature-based p-Wasserstein distances on the real line, through quantile functions
/// (W_p^p = integral_0^1 |F^-1(u) - G^-1(u)|^p du) and, for p = 1, through distribution functions
/// (W_1 = integral |F(x) - G(x)| dx).
/// </summary>
/// <remarks>
/// An empirical sample x_1..x_n carries weight 1/n per point; its quantile function is the sorted sample,
/// Q(u) = x_(i) for u in ((i-1)/n, i/n]. See Villani, <i>Optimal Transport: Old and New</i> (2009), and
/// Peyre and Cuturi, <i>Computational Optimal Transport</i> (2019), section 2.6. Inputs are never mutated: samples are
/// copied to a buffer rented from <see cref="ArrayPool{T}.Shared"/> and sorted there.
/// <para>
/// Quantile-function quadrature ("the documented grid"): the unit interval is cut at the cosine-clustered points
/// u_j = (1 - cos(pi j / K)) / 2, j = 0..K (K = <c>gridSize</c>), which crowd the ends where Gaussian-like quantile
/// functions diverge, merged with the breakpoints i/n of any empirical sample involved (so the empirical quantile is
/// constant on every piece); each piece is integrated with the two-point Gauss-Legendre rule, which never evaluates
/// a quantile function at 0 or 1. With the default K = 4096 the first piece has width about 1.5e-7.
/// </para>
/// </remarks>
public static class Wasserstein1D
{
    /// <summary>Default number of cosine-clustered cells of the quantile quadrature grid.</summary>
    public const int DefaultGridSize = 4096;

    /// <summary>Default number of cells of the composite two-point Gauss-Legendre rule of <see cref="W1FromCdfs"/>.</summary>
    public const int DefaultCdfIntervals = 8192;

    private static readonly double GaussOffset = 0.5 / Math.Sqrt(3.0);

    /// <summary>Exact W1 between two empirical samples (uniform weights, sizes may differ).</summary>
    /// <inheritdoc cref="Distance(ReadOnlySpan{double}, ReadOnlySpan{double}, double)"/>
    public static double W1(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => Distance(a, b, 1.0);

    /// <summary>Exact W2 between two empirical samples (uniform weights, sizes may differ).</summary>
    /// <inheritdoc cref="Distance(ReadOnlySpan{double}, ReadOnlySpan{double}, double)"/>
    public static double W2(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => Math.Sqrt(PowerCost(a, b, 2.0));

    /// <summary>Exact W2^2 between two empirical samples (uniform weights, sizes may differ).</summary>
    /// <inheritdoc cref="Distance(ReadOnlySpan{double}, ReadOnlySpan{double}, double)"/>
    public static double W2Squared(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => PowerCost(a, b, 2.0);

    /// <summary>
    /// Exact W_p between the empirical measures of two samples with uniform weights, sizes possibly different:
    /// (integral_0^1 |Qa(u) - Qb(u)|^p du)^(1/p), evaluated piece by piece on the merged breakpoints i/n, j/m.
    /// </summary>
    /// <param name="a">First sample (not modified).</param>
    /// <param name="b">Second sample (not modified).</param>
    /// <param name="p">Order p, finite and at least 1.</param>
    /// <returns>The distance W_p (non-negative).</returns>
    /// <exception cref="ArgumentException"><paramref name="a"/> or <paramref name="b"/> is empty or holds a non-finite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not finite or is below 1.</exception>
    public static double Distance(ReadOnlySpan<double> a, ReadOnlySpan<double> b, double p)
    {
        double cost = PowerCost(a, b, p);
        return p == 1.0 ? cost : Math.Pow(cost, 1.0 / p);
    }

    /// <summary>
    /// Exact W_p^p between two empirical samples (the optimal transport cost for |x - y|^p).
    /// </summary>
    /// <inheritdoc cref="Distance(ReadOnlySpan{double}, ReadOnlySpan{double}, double)"/>
    public static double PowerCost(ReadOnlySpan<double> a, ReadOnlySpan<double> b, double p)
    {
        PointSetArguments.RequireFiniteNonEmpty(a, nameof(a));
        PointSetArguments.RequireFiniteNonEmpty(b, nameof(b));
        RequireOrder(p);
        double[] bufA = ArrayPool<double>.Shared.Rent(a.Length);
        double[] bufB = ArrayPool<double>.Shared.Rent(b.Length);
        try
        {
            Span<double> sa = bufA.AsSpan(0, a.Length), sb = bufB.AsSpan(0, b.Length);
            a.CopyTo(sa);
            b.CopyTo(sb);
            return PowerCostInPlace(sa, sb, p);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(bufA);
            ArrayPool<double>.Shared.Return(bufB);
        }
    }

    /// <summary>W_p^p between two validated samples held in scratch buffers that may be reordered.</summary>
    internal static double PowerCostInPlace(Span<double> a, Span<double> b, double p)
    {
        a.Sort();
        b.Sort();
        long n = a.Length, m = b.Length;
        // Breakpoints are i/n = i*m/(n*m) and j/m = j*n/(n*m): walk them in integer units of 1/(n*m).
        int i = 0, j = 0;
        long position = 0;
        double sum = 0;
        double scale = 1.0 / ((double)n * m);
        while (i < n && j < m)
        {
            long endA = (i + 1) * m, endB = (j + 1) * n;
            long end = Math.Min(endA, endB);
            double diff = Math.Abs(a[i] - b[j]);
            double term = p == 2.0 ? diff * diff : p == 1.0 ? diff : Math.Pow(diff, p);
            sum += term * (end - position);
            position = end;
            if (endA == end) i++;
            if (endB == end) j++;
        }
        return sum * scale;
    }

    /// <summary>
    /// W_p between an empirical sample and a distribution given by its quantile function, by quadrature over u
    /// on the grid described in the type remarks (cosine-clustered cells merged with the sample's breakpoints i/n).
    /// </summary>
    /// <param name="sample">The sample (not modified), uniform weights.</param>
    /// <param name="quantile">Quantile function G^-1 on (0, 1); it is only evaluated strictly inside (0, 1).</param>
    /// <param name="p">Order p, finite and at least 1.</param>
    /// <param name="gridSize">Number K of cosine-clustered cells; at least 2.</param>
    /// <returns>The distance W_p.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="quantile"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="sample"/> is empty or holds a non-finite value, or
    /// <paramref name="quantile"/> returns NaN.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not finite or below 1, or
    /// <paramref name="gridSize"/> is below 2.</exception>
    public static double Distance(ReadOnlySpan<double> sample, Func<double, double> quantile, double p, int gridSize = DefaultGridSize)
    {
        PointSetArguments.RequireFiniteNonEmpty(sample, nameof(sample));
        ArgumentNullException.ThrowIfNull(quantile);
        RequireOrder(p);
        RequireGrid(gridSize);
        int n = sample.Length;
        double[] buf = ArrayPool<double>.Shared.Rent(n);
        try
        {
            Span<double> sorted = buf.AsSpan(0, n);
            sample.CopyTo(sorted);
            sorted.Sort();
            // Merge the breakpoints k/n with the cosine grid; on each piece the sample quantile is sorted[k].
            double sum = 0;
            double left = 0;
            int k = 0, jGrid = 1;
            double nextGrid = ClusteredPoint(1, gridSize);
            while (k < n)
            {
                double nextSample = k + 1 == n ? 1.0 : (double)(k + 1) / n;
                double right = Math.Min(nextSample, nextGrid);
                if (right > left)
                    sum += GaussPiece(left, right, sorted[k], quantile, p, nameof(quantile));
                left = right;
                if (right == nextSample) k++;
                if (right == nextGrid)
                {
                    jGrid++;
                    nextGrid = jGrid >= gridSize ? 1.0 : ClusteredPoint(jGrid, gridSize);
                }
            }
            return p == 1.0 ? sum : Math.Pow(sum, 1.0 / p);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buf);
        }
    }

    /// <summary>
    /// W_p between two distributions given by their quantile functions, by quadrature over u on the
    /// cosine-clustered grid described in the type remarks.
    /// </summary>
    /// <param name="quantileA">First quantile function on (0, 1).</param>
    /// <param name="quantileB">Second quantile function on (0, 1).</param>
    /// <param name="p">Order p, finite and at least 1.</param>
    /// <param name="gridSize">Number K of cosine-clustered cells; at least 2.</param>
    /// <returns>The distance W_p.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="quantileA"/> or <paramref name="quantileB"/> is null.</exception>
    /// <exception cref="ArgumentException">A quantile function returns NaN (the exception names it).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not finite or below 1, or
    /// <paramref name="gridSize"/> is below 2.</exception>
    public static double Distance(Func<double, double> quantileA, Func<double, double> quantileB, double p, int gridSize = DefaultGridSize)
    {
        ArgumentNullException.ThrowIfNull(quantileA);
        ArgumentNullException.ThrowIfNull(quantileB);
        RequireOrder(p);
        RequireGrid(gridSize);
        double sum = 0;
        double left = 0;
        for (int j = 1; j <= gridSize; j++)
        {
            double right = j == gridSize ? 1.0 : ClusteredPoint(j, gridSize);
            double mid = 0.5 * (left + right), half = 0.5 * (right - left);
            sum += half * (QuantileGap(quantileA, quantileB, mid - half * 2 * GaussOffset, p)
                           + QuantileGap(quantileA, quantileB, mid + half * 2 * GaussOffset, p));
            left = right;
        }
        return p == 1.0 ? sum : Math.Pow(sum, 1.0 / p);
    }

    /// <summary>
    /// W1 = integral over [<paramref name="lower"/>, <paramref name="upper"/>] of |F(x) - G(x)| dx between two
    /// distributions given by their cumulative distribution functions, with the composite two-point Gauss-Legendre
    /// rule on <paramref name="intervals"/> equal cells.
    /// </summary>
    /// <remarks>
    /// The interval must carry (almost) all the mass of both laws: the contribution of |F - G| outside it is ignored.
    /// The integrand has kinks where F and G cross, so the error is O(h^2) there and O(h^4) elsewhere.
    /// </remarks>
    /// <param name="cdfA">First distribution function F.</param>
    /// <param name="cdfB">Second distribution function G.</param>
    /// <param name="lower">Lower end of the integration interval (finite).</param>
    /// <param name="upper">Upper end of the integration interval (finite, above <paramref name="lower"/>).</param>
    /// <param name="intervals">Number of cells; at least 1.</param>
    /// <returns>The distance W1 restricted to the interval.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="cdfA"/> or <paramref name="cdfB"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="lower"/> or <paramref name="upper"/> is not finite, or
    /// <paramref name="upper"/> is not above <paramref name="lower"/>, or a distribution function returns NaN.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="intervals"/> is below 1.</exception>
    public static double W1FromCdfs(Func<double, double> cdfA, Func<double, double> cdfB, double lower, double upper, int intervals = DefaultCdfIntervals)
    {
        ArgumentNullException.ThrowIfNull(cdfA);
        ArgumentNullException.ThrowIfNull(cdfB);
        PointSetArguments.RequireFinite(lower, nameof(lower));
        PointSetArguments.RequireFinite(upper, nameof(upper));
        if (!(upper > lower))
            throw new ArgumentException($"The argument '{nameof(upper)}' ({upper}) must exceed '{nameof(lower)}' ({lower}).", nameof(upper));
        ArgumentOutOfRangeException.ThrowIfLessThan(intervals, 1);
        double h = (upper - lower) / intervals;
        double sum = 0;
        for (int k = 0; k < intervals; k++)
        {
            double mid = lower + (k + 0.5) * h;
            double x1 = mid - h * GaussOffset, x2 = mid + h * GaussOffset;
            double d1 = cdfA(x1) - cdfB(x1), d2 = cdfA(x2) - cdfB(x2);
            if (double.IsNaN(d1) || double.IsNaN(d2))
            {
                bool aIsNaN = double.IsNaN(cdfA(x1)) || double.IsNaN(cdfA(x2));
                string name = aIsNaN ? nameof(cdfA) : nameof(cdfB);
                throw new ArgumentException($"The distribution function '{name}' returned NaN near x = {mid:R}.", name);
            }
            sum += Math.Abs(d1) + Math.Abs(d2);
        }
        return 0.5 * h * sum;
    }

    private static double GaussPiece(double left, double right, double sampleValue, Func<double, double> quantile, double p, string name)
    {
        double mid = 0.5 * (left + right), half = 0.5 * (right - left);
        double u1 = mid - half * 2 * GaussOffset, u2 = mid + half * 2 * GaussOffset;
        double q1 = quantile(u1), q2 = quantile(u2);
        if (double.IsNaN(q1) || double.IsNaN(q2))
            throw new ArgumentException($"The quantile function '{name}' returned NaN near u = {mid:R}.", name);
        return half * (Power(Math.Abs(sampleValue - q1), p) + Power(Math.Abs(sampleValue - q2), p));
    }

    private static double QuantileGap(Func<double, double> quantileA, Func<double, double> quantileB, double u, double p)
    {
        double qa = quantileA(u), qb = quantileB(u);
        if (double.IsNaN(qa)) throw new ArgumentException($"The quantile function '{nameof(quantileA)}' returned NaN at u = {u:R}.", nameof(quantileA));
        if (double.IsNaN(qb)) throw new ArgumentException($"The quantile function '{nameof(quantileB)}' returned NaN at u = {u:R}.", nameof(quantileB));
        return Power(Math.Abs(qa - qb), p);
    }

    private static double ClusteredPoint(int j, int gridSize) => 0.5 * (1 - Math.Cos(Math.PI * j / gridSize));

    private static double Power(double x, double p) => p == 1.0 ? x : p == 2.0 ? x * x : Math.Pow(x, p);

    private static void RequireOrder(double p)
    {
        if (!double.IsFinite(p) || p < 1)
            throw new ArgumentOutOfRangeException(nameof(p), p, "The order 'p' must be finite and at least 1.");
    }

    private static void RequireGrid(int gridSize)
    {
        if (gridSize < 2)
            throw new ArgumentOutOfRangeException(nameof(gridSize), gridSize, "The grid size 'gridSize' must be at least 2.");
    }
}
