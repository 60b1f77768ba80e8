using MLExtensions.Diffusion.Numerics;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The Gaussian-path metric (<see cref="IGaussianPathMetric"/>) of Gaussian data N(mu, Sigma), in closed form from the
/// mean and the covariance eigenvalues lambda_i.
/// </summary>
/// <remarks>
/// <para>Derivation. In the eigenbasis of Sigma and with z = x - m mu ~ N(0, m^2 lambda + sigma^2) per coordinate, the
/// posterior mean is D = mu + m lambda z / (m^2 lambda + sigma^2) and epshat = (x - m D) / sigma =
/// sigma z / (m^2 lambda + sigma^2). Taking expectations, with r = sigma / m = tan(phi), c = cos(phi), s = sin(phi):
/// A = E|D|^2 = |mu|^2 + sum lambda^2 / (lambda + r^2) = |mu|^2 + sum lambda^2 c^2 / (lambda c^2 + s^2),
/// B = E&lt;D, epshat&gt; = sum lambda r / (lambda + r^2) = sum lambda s c / (lambda c^2 + s^2),
/// C = E|epshat|^2 = sum r^2 / (lambda + r^2) = sum s^2 / (lambda c^2 + s^2).
/// The (c, s) forms are regular on the closed interval [0, pi/2]. For one coordinate the energy reduces to
/// (dS/dt)^2 with S = sqrt(m^2 lambda + sigma^2), the speed of the marginal standard deviation (SPEC section 8).
/// For Gaussian data nu is a gradient field, so the energy equals the squared W2 speed.</para>
/// <para>A zero eigenvalue (degenerate data) contributes (0, 0, 1) for every phi &gt; 0 and, by that right limit, at
/// phi = 0 too. Immutable and thread-safe.</para>
/// </remarks>
public sealed class GaussianDataPathMetric : IGaussianPathMetric
{
    private readonly double[] _mean;
    private readonly double[] _eigenvalues;
    private readonly double _meanSquared;

    /// <summary>Creates the metric of N(<paramref name="mean"/>, <paramref name="covariance"/>).</summary>
    /// <param name="mean">The data mean mu, length d &gt;= 1, finite.</param>
    /// <param name="covariance">The data covariance, row-major d x d, symmetric positive semi-definite (checked through
    /// the symmetric eigen-decomposition; eigenvalues down to -1e-10 times the largest are clamped to 0).</param>
    /// <exception cref="ArgumentException"><paramref name="mean"/> is empty or holds a non-finite value;
    /// <paramref name="covariance"/> does not have d * d entries, holds a non-finite value, is not symmetric or has a
    /// negative eigenvalue.</exception>
    public GaussianDataPathMetric(ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance)
    {
        if (mean.IsEmpty) throw new ArgumentException("The mean must not be empty.", nameof(mean));
        for (int i = 0; i < mean.Length; i++)
            if (!double.IsFinite(mean[i]))
                throw new ArgumentException($"The mean must be finite, but mean[{i}] = {mean[i]}.", nameof(mean));
        int d = mean.Length;
        var (_, eigen) = SymmetricPositiveMatrix.Read(covariance, d, nameof(covariance), requirePositiveDefinite: false);
        _mean = mean.ToArray();
        _eigenvalues = new double[d];
        for (int i = 0; i < d; i++) _eigenvalues[i] = Math.Max(eigen.EigenValues[i].Real, 0);
        Array.Sort(_eigenvalues);
        foreach (double v in _mean) _meanSquared += v * v;
        double w2 = _meanSquared;
        foreach (double l in _eigenvalues) w2 += (Math.Sqrt(l) - 1) * (Math.Sqrt(l) - 1);
        SquaredDistanceToNoise = w2;
    }

    /// <summary>
    /// Creates the metric of the Gaussian with the sample mean and the unbiased sample covariance (1 / (n - 1)) of
    /// data rows.
    /// </summary>
    /// <param name="rows">n x d values, row-major, n &gt;= 2, finite.</param>
    /// <param name="dimension">d, positive.</param>
    /// <returns>The metric.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="rows"/> is not a whole number of rows of length d, has fewer
    /// than two rows, or holds a non-finite value.</exception>
    public static GaussianDataPathMetric FromData(ReadOnlySpan<double> rows, int dimension)
    {
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "'dimension' must be positive.");
        if (rows.Length % dimension != 0)
            throw new ArgumentException($"The data length {rows.Length} is not a multiple of the dimension {dimension}.", nameof(rows));
        int n = rows.Length / dimension;
        if (n < 2) throw new ArgumentException($"At least two data rows are needed, but there are {n}.", nameof(rows));
        for (int i = 0; i < rows.Length; i++)
            if (!double.IsFinite(rows[i]))
                throw new ArgumentException($"The data must be finite, but row {i / dimension} holds {rows[i]}.", nameof(rows));
        var mean = new double[dimension];
        var scatter = new double[dimension * dimension];
        SampleMoments.WeightedScatter(rows, dimension, ReadOnlySpan<double>.Empty, mean, scatter);
        for (int i = 0; i < scatter.Length; i++) scatter[i] /= n - 1;
        return new GaussianDataPathMetric(mean, scatter);
    }

    /// <summary>The dimension d.</summary>
    public int Dimension => _mean.Length;

    /// <summary>The data mean mu.</summary>
    public IReadOnlyList<double> Mean => _mean;

    /// <summary>The covariance eigenvalues lambda_i, ascending, clamped at 0.</summary>
    public IReadOnlyList<double> Eigenvalues => _eigenvalues;

    /// <summary>The squared Bures distance W2(q, N(0, I))^2 = |mu|^2 + sum (sqrt(lambda_i) - 1)^2: the kinetic cost of
    /// the OT path over tau = 1, a lower bound for every path's c2 (SPEC section 3).</summary>
    public double SquaredDistanceToNoise { get; }

    /// <inheritdoc />
    /// <param name="phi">The angle atan2(sigma, m), in the closed interval [0, pi/2].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="phi"/> is NaN or outside [0, pi/2].</exception>
    public GaussianPathCoefficients Coefficients(double phi)
    {
        if (!(phi >= 0 && phi <= GaussianPathGeodesic.HalfPi))
            throw new ArgumentOutOfRangeException(nameof(phi), phi, "The angle phi must lie in [0, pi/2].");
        double c = Math.Cos(phi), s = Math.Sin(phi), c2 = c * c, s2 = s * s;
        double a = _meanSquared, b = 0, cc = 0;
        foreach (double l in _eigenvalues)
        {
            if (l == 0)
            {
                cc += 1;
                continue;
            }
            double den = l * c2 + s2;
            a += l * l * c2 / den;
            b += l * s * c / den;
            cc += s2 / den;
        }
        return new GaussianPathCoefficients(a, b, cc);
    }
}
