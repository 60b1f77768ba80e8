namespace MLExtensions.Diffusion.Training;

/// <summary>
/// Per-feature affine standardisation z = (y - mean) / scale learned from data, with its inverse.
/// </summary>
/// <remarks>
/// With <c>isotropic: true</c> every feature shares one scale (the root-mean-square of the per-feature standard
/// deviations). A diffusion model trained in standardised space must use it: noise of level sigma in data space is
/// then noise of the single level sigma / scale in standardised space, so the (m, sigma) denoiser contract is kept.
/// </remarks>
public sealed class Standardizer
{
    private readonly double[] _mean;
    private readonly double[] _scale;

    private Standardizer(double[] mean, double[] scale)
    {
        _mean = mean;
        _scale = scale;
    }

    /// <summary>A standardiser with given mean and scale.</summary>
    /// <exception cref="ArgumentException">Empty, mis-matched or non-finite arrays, or a non-positive scale.</exception>
    public static Standardizer Create(ReadOnlySpan<double> mean, ReadOnlySpan<double> scale)
    {
        if (mean.IsEmpty) throw new ArgumentException("The mean must not be empty.", nameof(mean));
        if (scale.Length != mean.Length) throw new ArgumentException("The scale must have the mean's length.", nameof(scale));
        foreach (double v in mean) if (!double.IsFinite(v)) throw new ArgumentException("The mean holds a non-finite value.", nameof(mean));
        foreach (double v in scale) if (!double.IsFinite(v) || v <= 0) throw new ArgumentException("Every scale must be finite and positive.", nameof(scale));
        return new Standardizer(mean.ToArray(), scale.ToArray());
    }

    /// <summary>Learns mean and standard deviation (population) per feature from rows x d data.</summary>
    /// <param name="data">Row-major data.</param>
    /// <param name="dimension">Features per row.</param>
    /// <param name="isotropic">Whether all features share one scale.</param>
    /// <exception cref="ArgumentException">The data is empty, not a multiple of the dimension, or holds a non-finite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    public static Standardizer Fit(ReadOnlySpan<float> data, int dimension, bool isotropic)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (data.Length == 0 || data.Length % dimension != 0) throw new ArgumentException($"The data length {data.Length} is not a positive multiple of {dimension}.", nameof(data));
        int rows = data.Length / dimension;
        var mean = new double[dimension];
        var m2 = new double[dimension];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < dimension; j++)
            {
                double v = data[r * dimension + j];
                if (!double.IsFinite(v)) throw new ArgumentException("The data holds a non-finite value.", nameof(data));
                // Welford update.
                double delta = v - mean[j];
                mean[j] += delta / (r + 1);
                m2[j] += delta * (v - mean[j]);
            }
        var scale = new double[dimension];
        for (int j = 0; j < dimension; j++) scale[j] = Math.Sqrt(m2[j] / rows);
        if (isotropic)
        {
            double rms = Math.Sqrt(scale.Sum(s => s * s) / dimension);
            Array.Fill(scale, rms);
        }
        for (int j = 0; j < dimension; j++) if (!(scale[j] > 0)) scale[j] = 1;
        return new Standardizer(mean, scale);
    }

    /// <summary>Features per row.</summary>
    public int Dimension => _mean.Length;

    /// <summary>Per-feature mean.</summary>
    public ReadOnlySpan<double> Mean => _mean;

    /// <summary>Per-feature scale.</summary>
    public ReadOnlySpan<double> Scale => _scale;

    /// <summary>Whether every feature has the same scale.</summary>
    public bool IsIsotropic => _scale.All(s => s == _scale[0]);

    /// <summary>z = (y - mean) / scale for every row.</summary>
    /// <exception cref="ArgumentException">Lengths differ or are not a multiple of the dimension.</exception>
    public void Transform(ReadOnlySpan<float> data, Span<float> destination)
    {
        Check(data.Length, destination.Length, nameof(data));
        int d = Dimension;
        for (int i = 0; i < data.Length; i++) destination[i] = (float)((data[i] - _mean[i % d]) / _scale[i % d]);
    }

    /// <summary>y = mean + scale z for every row.</summary>
    /// <exception cref="ArgumentException">Lengths differ or are not a multiple of the dimension.</exception>
    public void Inverse(ReadOnlySpan<float> standardized, Span<float> destination)
    {
        Check(standardized.Length, destination.Length, nameof(standardized));
        int d = Dimension;
        for (int i = 0; i < standardized.Length; i++) destination[i] = (float)(_mean[i % d] + _scale[i % d] * standardized[i]);
    }

    private void Check(int source, int destination, string sourceName)
    {
        if (source % Dimension != 0) throw new ArgumentException($"The length {source} is not a multiple of {Dimension}.", sourceName);
        if (destination != source) throw new ArgumentException("The destination must have the source's length.", nameof(destination));
    }
}
