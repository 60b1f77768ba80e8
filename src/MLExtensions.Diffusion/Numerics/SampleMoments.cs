namespace MLExtensions.Diffusion.Numerics;

/// <summary>
/// The first two moments of data rows: the (optionally weighted) mean and the scatter matrix of deviations from it,
/// the one place that sums them; callers choose the normalisation (1/(n - 1), 1/n, 1/sum of weights) and any ridge.
/// </summary>
internal static class SampleMoments
{
    /// <summary>
    /// mean = sum_r w_r x_r / W and scatter = sum_r w_r (x_r - mean)(x_r - mean)^T (full symmetric d x d, row-major),
    /// with W = sum_r w_r (unit weights when <paramref name="weights"/> is empty). Rows of weight 0 do not enter; when W
    /// is 0 the mean and the scatter are 0.
    /// </summary>
    /// <param name="rows">n x d values, row-major.</param>
    /// <param name="dimension">d.</param>
    /// <param name="weights">n non-negative weights, or empty for unit weights.</param>
    /// <param name="mean">d values, written.</param>
    /// <param name="scatter">d x d values, written.</param>
    /// <returns>W, the sum of the weights (n for unit weights).</returns>
    public static double WeightedScatter(ReadOnlySpan<double> rows, int dimension, ReadOnlySpan<double> weights, Span<double> mean, Span<double> scatter)
    {
        int d = dimension, n = rows.Length / d;
        bool unit = weights.IsEmpty;
        double total = 0;
        mean[..d].Clear();
        scatter[..(d * d)].Clear();
        for (int r = 0; r < n; r++)
        {
            double w = unit ? 1 : weights[r];
            total += w;
            for (int j = 0; j < d; j++) mean[j] += w * rows[r * d + j];
        }
        if (total == 0) return 0;
        for (int j = 0; j < d; j++) mean[j] /= total;
        for (int r = 0; r < n; r++)
        {
            double w = unit ? 1 : weights[r];
            if (w == 0) continue;
            for (int a = 0; a < d; a++)
            {
                double da = rows[r * d + a] - mean[a];
                for (int b = 0; b <= a; b++) scatter[a * d + b] += w * da * (rows[r * d + b] - mean[b]);
            }
        }
        for (int a = 0; a < d; a++)
            for (int b = 0; b < a; b++) scatter[b * d + a] = scatter[a * d + b];
        return total;
    }
}
