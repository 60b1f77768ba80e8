namespace MLExtensions.Diffusion.Denoisers;

/// <summary>
/// The exact denoiser for Gaussian data y ~ N(mu, C): E[y | x] = mu + m C (m^2 C + sigma^2 I)^-1 (x - m mu)
/// (SPEC section 8); per coordinate mu + m v (x - m mu) / (m^2 v + sigma^2) when C = diag(v). Also the marginal
/// P = N(m mu, m^2 C + sigma^2 I), its score and sampling from the data law.
/// </summary>
/// <remarks>
/// <para>This is the one-component case of <see cref="GaussianMixtureDenoiser"/>, which does the work (one home for the
/// formulas); a diagonal covariance keeps the O(d) per-row path, a full one is diagonalised once at construction
/// and costs O(d^2) per row.</para>
/// <para>Immutable and thread-safe.</para>
/// </remarks>
public sealed class GaussianDenoiser : IMarginalDensity, IDenoiserJacobian
{
    private readonly GaussianMixtureDenoiser _mixture;
    private readonly GaussianComponent _component;
    private readonly double[] _variance;

    private GaussianDenoiser(GaussianComponent component)
    {
        _component = component;
        _mixture = GaussianMixtureDenoiser.FromComponent(component);
        _variance = component.CovarianceDiagonal();
    }

    /// <summary>Data N(mean, diag(variance)).</summary>
    /// <exception cref="ArgumentException">Arrays are empty, differ in length, hold non-finite values, or a variance is not positive.</exception>
    public static GaussianDenoiser Diagonal(ReadOnlySpan<double> mean, ReadOnlySpan<double> variance)
        => new(GaussianComponent.Diagonal(mean, variance, nameof(mean), nameof(variance), "Gaussian"));

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

    /// <summary>Data N(mean, covariance) with a full symmetric positive-definite covariance (copied and diagonalised once).</summary>
    /// <param name="mean">The mean, d finite entries.</param>
    /// <param name="covariance">A symmetric positive-definite d x d matrix.</param>
    /// <returns>The denoiser.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="covariance"/> is null.</exception>
    /// <exception cref="ArgumentException">The mean is empty or non-finite; the covariance is not d x d, holds non-finite values, is not
    /// symmetric, or is not numerically positive definite (an eigenvalue at most d * machine epsilon * the largest).</exception>
    public static GaussianDenoiser Full(ReadOnlySpan<double> mean, double[,] covariance)
        => new(GaussianComponent.Full(mean, covariance, nameof(mean), nameof(covariance), "Gaussian"));

    /// <inheritdoc />
    public int Dimension => _component.Dimension;

    /// <summary>The data mean.</summary>
    public ReadOnlySpan<double> Mean => _component.Mean;

    /// <summary>The per-coordinate data variance (the diagonal of the covariance).</summary>
    public ReadOnlySpan<double> Variance => _variance;

    /// <summary>Whether the covariance is diagonal (built by <see cref="Diagonal"/> or <see cref="Isotropic"/>).</summary>
    public bool IsDiagonal => _component.IsDiagonal;

    /// <summary>The covariance as a new d x d array.</summary>
    /// <returns>C.</returns>
    public double[,] GetCovariance() => _component.Covariance();

    /// <inheritdoc />
    public void Denoise(ReadOnlySpan<double> x, double m, double sigma, Span<double> x0) => _mixture.Denoise(x, m, sigma, x0);

    /// <summary>
    /// x0hat and J v with the exact, constant Jacobian J = m C (m^2 C + sigma^2 I)^-1 = A diag(m lambda / (m^2 lambda + sigma^2)) A^T
    /// (C = A diag(lambda) A^T); per coordinate J v = m v_j c_j / (m^2 c_j + sigma^2) for diagonal C.
    /// </summary>
    /// <inheritdoc />
    public void JacobianVectorProduct(ReadOnlySpan<double> x, double m, double sigma, ReadOnlySpan<double> v, Span<double> x0, Span<double> jv)
        => _mixture.JacobianVectorProduct(x, m, sigma, v, x0, jv);

    /// <inheritdoc />
    public double LogDensity(ReadOnlySpan<double> row, double m, double sigma) => _mixture.LogDensity(row, m, sigma);

    /// <inheritdoc />
    public void LogDensity(ReadOnlySpan<double> x, double m, double sigma, Span<double> logDensity) => _mixture.LogDensity(x, m, sigma, logDensity);

    /// <inheritdoc />
    public void Score(ReadOnlySpan<double> x, double m, double sigma, Span<double> score) => _mixture.Score(x, m, sigma, score);

    /// <inheritdoc />
    public void SampleData(Random random, Span<double> destination) => _mixture.SampleData(random, destination);
}
