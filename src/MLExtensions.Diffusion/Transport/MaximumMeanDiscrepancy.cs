namespace MLExtensions.Diffusion.Transport;

/// <summary>
/// Unbiased estimate of the squared maximum mean discrepancy MMD^2 between two samples with the Gaussian (RBF)
/// kernel k(x, y) = exp(-|x - y|^2 / (2 h^2)).
/// </summary>
/// <remarks>
/// MMD_u^2 = 1/(n(n-1)) sum_{i != j} k(x_i, x_j) + 1/(m(m-1)) sum_{i != j} k(y_i, y_j) - 2/(n m) sum_{i,j} k(x_i, y_j)
/// (Gretton, Borgwardt, Rasch, Schoelkopf and Smola, JMLR 13:723, 2012, Lemma 6). The estimate is unbiased, so it
/// can be negative when the two laws agree. The default bandwidth follows the median heuristic: h is the median of the
/// Euclidean distances |z_i - z_j| over all pairs i &lt; j of the pooled sample z = (x, y) (for an even number of pairs,
/// the mean of the two middle values), which costs O((n + m)^2) time and memory.
/// </remarks>
public static class MaximumMeanDiscrepancy
{
    /// <summary>Unbiased MMD^2 with the bandwidth h chosen by the median heuristic (<see cref="MedianBandwidth"/>).</summary>
    /// <param name="x">Row-major first sample, n &gt;= 2 rows of <paramref name="dimension"/> values.</param>
    /// <param name="y">Row-major second sample, m &gt;= 2 rows of <paramref name="dimension"/> values.</param>
    /// <param name="dimension">The dimension d (positive).</param>
    /// <returns>The unbiased estimate of MMD^2 (may be slightly negative).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A sample has fewer than two points, holds a non-finite value or has a
    /// length that is not a multiple of the dimension, or all pooled points coincide (zero median distance).</exception>
    public static double UnbiasedSquared(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension)
    {
        RequireSample(x, dimension, nameof(x));
        RequireSample(y, dimension, nameof(y));
        double h = MedianBandwidthValidated(x, y, dimension);
        if (h == 0)
            throw new ArgumentException($"All points of '{nameof(x)}' and '{nameof(y)}' coincide: the median-heuristic bandwidth is zero.", nameof(x));
        return UnbiasedSquaredValidated(x, y, dimension, h);
    }

    /// <summary>Unbiased MMD^2 with a given bandwidth h, k(x, y) = exp(-|x - y|^2 / (2 h^2)).</summary>
    /// <param name="x">Row-major first sample, n &gt;= 2 rows of <paramref name="dimension"/> values.</param>
    /// <param name="y">Row-major second sample, m &gt;= 2 rows of <paramref name="dimension"/> values.</param>
    /// <param name="dimension">The dimension d (positive).</param>
    /// <param name="bandwidth">Kernel bandwidth h (finite, positive).</param>
    /// <returns>The unbiased estimate of MMD^2 (may be slightly negative).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive or
    /// <paramref name="bandwidth"/> is not finite and positive.</exception>
    /// <exception cref="ArgumentException">A sample has fewer than two points, holds a non-finite value or has a
    /// length that is not a multiple of the dimension (the exception names it).</exception>
    public static double UnbiasedSquared(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, double bandwidth)
    {
        RequireSample(x, dimension, nameof(x));
        RequireSample(y, dimension, nameof(y));
        PointSetArguments.RequirePositive(bandwidth, nameof(bandwidth));
        return UnbiasedSquaredValidated(x, y, dimension, bandwidth);
    }

    /// <summary>
    /// Median heuristic bandwidth: the median Euclidean distance over all pairs of distinct indices of the pooled
    /// sample (x, y).
    /// </summary>
    /// <param name="x">Row-major first sample.</param>
    /// <param name="y">Row-major second sample.</param>
    /// <param name="dimension">The dimension d (positive).</param>
    /// <returns>The median pairwise distance (zero when all points coincide).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A sample is empty, holds a non-finite value or has a length that is not a
    /// multiple of the dimension, or the pooled sample has fewer than two points.</exception>
    public static double MedianBandwidth(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension)
    {
        int n = PointSetArguments.RequirePointSet(x, dimension, nameof(x));
        int m = PointSetArguments.RequirePointSet(y, dimension, nameof(y));
        if (n + m < 2)
            throw new ArgumentException("The pooled sample needs at least two points.", nameof(y));
        return MedianBandwidthValidated(x, y, dimension);
    }

    private static void RequireSample(ReadOnlySpan<double> sample, int dimension, string paramName)
    {
        int count = PointSetArguments.RequirePointSet(sample, dimension, paramName);
        if (count < 2)
            throw new ArgumentException($"The sample '{paramName}' needs at least two points for the unbiased estimate.", paramName);
    }

    private static double MedianBandwidthValidated(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension)
    {
        int n = x.Length / dimension, m = y.Length / dimension, total = n + m;
        long pairs = (long)total * (total - 1) / 2;
        var distances = new double[pairs];
        long k = 0;
        for (int i = 0; i < total; i++)
        {
            ReadOnlySpan<double> zi = Row(x, y, dimension, i);
            for (int j = i + 1; j < total; j++)
                distances[k++] = SquaredDistance(zi, Row(x, y, dimension, j));
        }
        Array.Sort(distances);
        long mid = pairs / 2;
        // Distances were stored squared; the median of the distances is taken on their square roots.
        return pairs % 2 == 1
            ? Math.Sqrt(distances[mid])
            : 0.5 * (Math.Sqrt(distances[mid - 1]) + Math.Sqrt(distances[mid]));
    }

    private static double UnbiasedSquaredValidated(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, double bandwidth)
    {
        int n = x.Length / dimension, m = y.Length / dimension;
        double scale = -1.0 / (2 * bandwidth * bandwidth);
        double kxx = 0, kyy = 0, kxy = 0;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> xi = x.Slice(i * dimension, dimension);
            for (int j = i + 1; j < n; j++) kxx += Math.Exp(scale * SquaredDistance(xi, x.Slice(j * dimension, dimension)));
            for (int j = 0; j < m; j++) kxy += Math.Exp(scale * SquaredDistance(xi, y.Slice(j * dimension, dimension)));
        }
        for (int i = 0; i < m; i++)
        {
            ReadOnlySpan<double> yi = y.Slice(i * dimension, dimension);
            for (int j = i + 1; j < m; j++) kyy += Math.Exp(scale * SquaredDistance(yi, y.Slice(j * dimension, dimension)));
        }
        return 2 * kxx / ((double)n * (n - 1)) + 2 * kyy / ((double)m * (m - 1)) - 2 * kxy / ((double)n * m);
    }

    private static ReadOnlySpan<double> Row(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, int index)
    {
        int n = x.Length / dimension;
        return index < n ? x.Slice(index * dimension, dimension) : y.Slice((index - n) * dimension, dimension);
    }

    private static double SquaredDistance(ReadOnlySpan<double> u, ReadOnlySpan<double> v)
    {
        double s = 0;
        for (int k = 0; k < u.Length; k++)
        {
            double diff = u[k] - v[k];
            s += diff * diff;
        }
        return s;
    }
}
