using System.Globalization;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// What <see cref="ScoreMatchingEstimator.Fit"/> asks of its training rows: a minimum row count (fewer is an error) and
/// per-feature scales that extreme values do not dominate (a warning in <see cref="Microsoft.ML.MLContext.Log"/> and in
/// <see cref="TrainingSummary.Warnings"/>).
/// </summary>
/// <remarks>
/// <para>Minimum rows, <see cref="MinimumRows"/>: max(10, d + 1). Each feature's mean and standard deviation are fitted
/// from the rows (with fewer than 10 rows the standard deviation is off by more than 20 % for Gaussian data), and fewer
/// than d + 1 rows lie in a (d - 1)-dimensional subspace, which a density over d features cannot be learned from.</para>
/// <para>Scale warnings, computed on the finite rows in data units whatever the <see cref="FeatureScaling"/>:
/// <list type="bullet">
/// <item>Outlier-dominated feature: its population standard deviation exceeds <see cref="MaximumOutlierScaleRatio"/>
/// (1e3) times its robust scale 1.4826 MAD (median absolute deviation from the median; equal to the standard deviation for
/// Gaussian data). A single row at 1e30 among values near 1 gives a ratio near 1e28: the feature's scale is set by that row
/// and generated values of that size follow. Skipped when the MAD is 0 (more than half the rows share one value).</item>
/// <item>Scale spread: the largest standard deviation over the smallest non-zero one exceeds
/// <see cref="MaximumFeatureScaleRatio"/> (1e6), a sign of a unit error or of an outlier.</item>
/// </list></para>
/// </remarks>
public static class TrainingDataLimits
{
    /// <summary>The standard deviation over the robust scale 1.4826 MAD above which a feature is reported as dominated by
    /// extreme values: 1e3.</summary>
    public const double MaximumOutlierScaleRatio = 1e3;

    /// <summary>The ratio of the largest to the smallest non-zero per-feature standard deviation above which the spread of
    /// scales is reported: 1e6.</summary>
    public const double MaximumFeatureScaleRatio = 1e6;

    /// <summary>The fewest rows <see cref="ScoreMatchingEstimator.Fit"/> trains on: max(10, d + 1).</summary>
    /// <param name="dimension">Features per row, d.</param>
    /// <returns>The minimum row count.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    public static int MinimumRows(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        return Math.Max(10, dimension == int.MaxValue ? int.MaxValue : dimension + 1);
    }

    /// <summary>The scale warnings of rows x d finite training rows (see the remarks), empty when none applies.</summary>
    internal static List<string> ScaleWarnings(ReadOnlySpan<float> data, int dimension, string column)
    {
        int d = dimension, rows = data.Length / d;
        var warnings = new List<string>();
        if (rows < 2) return warnings;
        var values = new double[rows];
        var std = new double[d];
        for (int j = 0; j < d; j++)
        {
            double mean = 0;
            for (int r = 0; r < rows; r++) mean += data[r * d + j];
            mean /= rows;
            double sum = 0;
            for (int r = 0; r < rows; r++)
            {
                double v = data[r * d + j] - mean;
                sum += v * v;
            }
            std[j] = Math.Sqrt(sum / rows);
            for (int r = 0; r < rows; r++) values[r] = data[r * d + j];
            Array.Sort(values);
            double median = Median(values);
            int farthest = 0;
            double far = -1;
            for (int r = 0; r < rows; r++)
            {
                double deviation = Math.Abs(data[r * d + j] - median);
                if (deviation > far) (far, farthest) = (deviation, r);
                values[r] = deviation;
            }
            Array.Sort(values);
            double robust = 1.4826 * Median(values);
            if (robust > 0 && std[j] > MaximumOutlierScaleRatio * robust)
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"Feature {j} of column '{column}' has standard deviation {std[j]:G3} but robust scale (1.4826 MAD) {robust:G3}, a ratio of " +
                    $"{std[j] / robust:G3} (above {MaximumOutlierScaleRatio:G3}): extreme values such as {data[farthest * d + j]:G3} in row {farthest} set its " +
                    $"scale, and the model will generate values of that size. Check the column for outliers or unit errors."));
        }
        int high = -1, low = -1;
        for (int j = 0; j < d; j++)
        {
            if (!(std[j] > 0)) continue;
            if (high < 0 || std[j] > std[high]) high = j;
            if (low < 0 || std[j] < std[low]) low = j;
        }
        if (high >= 0 && std[high] > MaximumFeatureScaleRatio * std[low])
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"The features of column '{column}' have standard deviations {std[high]:G3} (feature {high}) to {std[low]:G3} (feature {low}), a ratio of " +
                $"{std[high] / std[low]:G3} (above {MaximumFeatureScaleRatio:G3}): check for outliers or unit errors."));
        return warnings;
    }

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
}
