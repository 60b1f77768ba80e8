namespace MLExtensions.Diffusion.Denoisers;

/// <summary>
/// The exact denoiser for Gaussian data y ~ N(mu, diag(v)): E[y | x] = mu + m v (x - m mu) / (m^2 v + sigma^2),
/// per coordinate (SPEC section 8).
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public sealed class GaussianDenoiser : IDenoiser
{
    private readonly double[] _mean;
    private readonly double[] _variance;

    private GaussianDenoiser(double[] mean, double[] variance)
    {
        _mean = mean;
        _variance = variance;
    }

    /// <summary>Data N(mean, diag(variance)).</summary>
    /// <exception cref="ArgumentException">Arrays are empty, differ in length, hold non-finite values, or a variance is not positive.</exception>
    public static GaussianDenoiser Diagonal(ReadOnlySpan<double> mean, ReadOnlySpan<double> variance)
    {
        if (mean.Length == 0) throw new ArgumentException("The mean must not be empty.", nameof(mean));
        if (variance.Length != mean.Length)
            throw new ArgumentException($"The variance has {variance.Length} entries but the mean has {mean.Length}.", nameof(variance));
        foreach (double v in mean)
            if (!double.IsFinite(v)) throw new ArgumentException("The mean holds a non-finite value.", nameof(mean));
        foreach (double v in variance)
            if (!double.IsFinite(v) || v <= 0) throw new ArgumentException("Every variance must be finite and positive.", nameof(variance));
        return new GaussianDenoiser(mean.ToArray(), variance.ToArray());
    }

    /// <summary>Data N(mean, s0^2 I).</summary>
    /// <exception cref="ArgumentException">The mean is empty or non-finite, or <paramref name="standardDeviation"/> is not finite and positive.</exception>
    public static GaussianDenoiser Isotropic(ReadOnlySpan<double> mean, double standardDeviation)
    {
        if (!double.IsFinite(standardDeviation) || standardDeviation <= 0)
            throw new ArgumentException("The standard deviation must be finite and positive.", nameof(standardDeviation));
        var variance = new double[mean.Length];
        Array.Fill(variance, standardDeviation * standardDeviation);
        return Diagonal(mean, variance);
    }

    /// <inheritdoc />
    public int Dimension => _mean.Length;

    /// <summary>The data mean.</summary>
    public ReadOnlySpan<double> Mean => _mean;

    /// <summary>The per-coordinate data variance.</summary>
    public ReadOnlySpan<double> Variance => _variance;

    /// <inheritdoc />
    public void Denoise(ReadOnlySpan<double> x, double m, double sigma, Span<double> x0)
    {
        int rows = DenoiserArguments.Check(Dimension, x, m, sigma, x0);
        int d = Dimension;
        double s2 = sigma * sigma;
        for (int r = 0; r < rows; r++)
        {
            int o = r * d;
            for (int j = 0; j < d; j++)
            {
                double v = _variance[j], mu = _mean[j];
                x0[o + j] = mu + m * v * (x[o + j] - m * mu) / (m * m * v + s2);
            }
        }
    }
}
