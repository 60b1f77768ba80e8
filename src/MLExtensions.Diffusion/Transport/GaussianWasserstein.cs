using MathNet.Numerics.LinearAlgebra;

namespace MLExtensions.Diffusion.Transport;

/// <summary>
/// The 2-Wasserstein (Bures-Wasserstein) distance between Gaussian laws and the optimal linear map between them.
/// </summary>
/// <remarks>
/// W2^2(N(mu1, S1), N(mu2, S2)) = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S2^1/2 S1 S2^1/2)^1/2)
/// (Dowson and Landau, J. Multivariate Anal. 12:450, 1982; Olkin and Pukelsheim, Linear Algebra Appl. 48:257, 1982;
/// Givens and Shortt, Michigan Math. J. 31:231, 1984). The optimal map is T(x) = mu2 + A (x - mu1) with
/// A = S1^-1/2 (S1^1/2 S2 S1^1/2)^1/2 S1^-1/2. Matrix square roots come from MathNet.Numerics' symmetric
/// eigen-decomposition. Covariances are row-major d x d spans; symmetry is checked to a relative tolerance of 1e-10.
/// </remarks>
public static class GaussianWasserstein
{
    /// <summary>W2 between the 1-D Gaussians N(m1, s1^2) and N(m2, s2^2): sqrt((m1 - m2)^2 + (s1 - s2)^2).</summary>
    /// <param name="mean1">Mean of the first law.</param>
    /// <param name="standardDeviation1">Standard deviation of the first law (non-negative).</param>
    /// <param name="mean2">Mean of the second law.</param>
    /// <param name="standardDeviation2">Standard deviation of the second law (non-negative).</param>
    /// <returns>The distance.</returns>
    /// <exception cref="ArgumentException">A mean is not finite (the exception names it).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A standard deviation is negative or not finite.</exception>
    public static double W2(double mean1, double standardDeviation1, double mean2, double standardDeviation2)
    {
        PointSetArguments.RequireFinite(mean1, nameof(mean1));
        PointSetArguments.RequireFinite(mean2, nameof(mean2));
        RequireNonNegative(standardDeviation1, nameof(standardDeviation1));
        RequireNonNegative(standardDeviation2, nameof(standardDeviation2));
        double dm = mean1 - mean2, ds = standardDeviation1 - standardDeviation2;
        return Math.Sqrt(dm * dm + ds * ds);
    }

    /// <summary>W2 between N(mean1, covariance1) and N(mean2, covariance2) in dimension <paramref name="dimension"/>.</summary>
    /// <inheritdoc cref="W2Squared(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, int)"/>
    public static double W2(ReadOnlySpan<double> mean1, ReadOnlySpan<double> covariance1,
        ReadOnlySpan<double> mean2, ReadOnlySpan<double> covariance2, int dimension)
        => Math.Sqrt(W2Squared(mean1, covariance1, mean2, covariance2, dimension));

    /// <summary>
    /// Squared Bures-Wasserstein distance |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S2^1/2 S1 S2^1/2)^1/2), clamped at zero.
    /// </summary>
    /// <param name="mean1">Mean of the first law, length d.</param>
    /// <param name="covariance1">Covariance of the first law, row-major d x d, symmetric positive semi-definite.</param>
    /// <param name="mean2">Mean of the second law, length d.</param>
    /// <param name="covariance2">Covariance of the second law, row-major d x d, symmetric positive semi-definite.</param>
    /// <param name="dimension">The dimension d (positive).</param>
    /// <returns>The squared distance (non-negative).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A mean does not have length d or holds a non-finite value; a covariance does
    /// not have length d*d, holds a non-finite value, is not symmetric or has a negative eigenvalue (the exception names
    /// the argument).</exception>
    public static double W2Squared(ReadOnlySpan<double> mean1, ReadOnlySpan<double> covariance1,
        ReadOnlySpan<double> mean2, ReadOnlySpan<double> covariance2, int dimension)
    {
        PointSetArguments.RequireDimension(dimension);
        RequireMean(mean1, dimension, nameof(mean1));
        RequireMean(mean2, dimension, nameof(mean2));
        var (s1, _) = SymmetricPositiveMatrix.Read(covariance1, dimension, nameof(covariance1), requirePositiveDefinite: false);
        var (s2, e2) = SymmetricPositiveMatrix.Read(covariance2, dimension, nameof(covariance2), requirePositiveDefinite: false);
        double meanTerm = 0;
        for (int i = 0; i < dimension; i++)
        {
            double dm = mean1[i] - mean2[i];
            meanTerm += dm * dm;
        }
        var root2 = SymmetricPositiveMatrix.Sqrt(e2);
        var middle = SymmetricPositiveMatrix.Symmetrize(root2 * s1 * root2);
        var middleEigen = middle.Evd(Symmetricity.Symmetric);
        double crossTrace = 0;
        for (int i = 0; i < dimension; i++) crossTrace += Math.Sqrt(Math.Max(middleEigen.EigenValues[i].Real, 0));
        double value = meanTerm + s1.Trace() + s2.Trace() - 2 * crossTrace;
        return Math.Max(value, 0);
    }

    /// <summary>
    /// The optimal (Bures) linear map T(x) = mu2 + A (x - mu1), A = S1^-1/2 (S1^1/2 S2 S1^1/2)^1/2 S1^-1/2, which pushes
    /// N(mu1, S1) forward to N(mu2, S2) and is the W2-optimal transport map between them.
    /// </summary>
    /// <param name="mean1">Mean of the source law, length d.</param>
    /// <param name="covariance1">Covariance of the source law, row-major d x d, symmetric positive definite.</param>
    /// <param name="mean2">Mean of the target law, length d.</param>
    /// <param name="covariance2">Covariance of the target law, row-major d x d, symmetric positive semi-definite.</param>
    /// <param name="dimension">The dimension d (positive).</param>
    /// <returns>The map.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A mean does not have length d or holds a non-finite value; a covariance does
    /// not have length d*d, holds a non-finite value or is not symmetric; <paramref name="covariance1"/> is not positive
    /// definite or <paramref name="covariance2"/> has a negative eigenvalue (the exception names the argument).</exception>
    public static BuresMap OptimalMap(ReadOnlySpan<double> mean1, ReadOnlySpan<double> covariance1,
        ReadOnlySpan<double> mean2, ReadOnlySpan<double> covariance2, int dimension)
    {
        PointSetArguments.RequireDimension(dimension);
        RequireMean(mean1, dimension, nameof(mean1));
        RequireMean(mean2, dimension, nameof(mean2));
        var (_, e1) = SymmetricPositiveMatrix.Read(covariance1, dimension, nameof(covariance1), requirePositiveDefinite: true);
        var (s2, _) = SymmetricPositiveMatrix.Read(covariance2, dimension, nameof(covariance2), requirePositiveDefinite: false);
        var root1 = SymmetricPositiveMatrix.Sqrt(e1);
        var inverseRoot1 = SymmetricPositiveMatrix.InverseSqrt(e1);
        var middle = SymmetricPositiveMatrix.Symmetrize(root1 * s2 * root1);
        var middleRoot = SymmetricPositiveMatrix.Sqrt(middle.Evd(Symmetricity.Symmetric));
        Matrix<double> a = SymmetricPositiveMatrix.Symmetrize(inverseRoot1 * middleRoot * inverseRoot1);
        var linear = new double[dimension * dimension];
        for (int i = 0; i < dimension; i++)
            for (int j = 0; j < dimension; j++)
                linear[i * dimension + j] = a[i, j];
        return new BuresMap(mean1.ToArray(), mean2.ToArray(), linear, dimension);
    }

    private static void RequireMean(ReadOnlySpan<double> mean, int dimension, string paramName)
    {
        if (mean.Length != dimension)
            throw new ArgumentException($"The argument '{paramName}' has length {mean.Length}; expected the dimension {dimension}.", paramName);
        PointSetArguments.RequireFinite(mean, paramName);
    }

    private static void RequireNonNegative(double value, string paramName)
    {
        if (!double.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(paramName, value, $"The argument '{paramName}' must be finite and non-negative.");
    }
}
