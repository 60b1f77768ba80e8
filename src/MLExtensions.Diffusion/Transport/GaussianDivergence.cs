namespace MLExtensions.Diffusion.Transport;

/// <summary>
/// Closed-form divergences between Gaussian laws: Kullback-Leibler (1-D and full covariance) and Pearson chi-square
/// (1-D and isotropic), the start-mismatch measure D0 of the speed-accuracy relation (SPEC section 3).
/// </summary>
/// <remarks>
/// Argument order follows the divergence: the first law is the one integrated against, the second is the reference.
/// KL(N(mu1, S1) || N(mu0, S0)) = 1/2 [tr(S0^-1 S1) + (mu1 - mu0)^T S0^-1 (mu1 - mu0) - d + ln det S0 - ln det S1].
/// chi2(N(m1, s1^2) || N(m0, s0^2)) = integral (p1 - p0)^2 / p0 = s0^2 / (s1 sqrt(2 s0^2 - s1^2))
/// exp((m1 - m0)^2 / (2 s0^2 - s1^2)) - 1, which is +infinity when 2 s0^2 &lt;= s1^2 (the integral of p1^2 / p0 diverges);
/// the isotropic d-dimensional version is the product of d such factors: (1 + chi2) = [s0^2 / (s1 sqrt(2 s0^2 - s1^2))]^d
/// exp(|m1 - m0|^2 / (2 s0^2 - s1^2)) (Nielsen and Nock, IEEE Signal Process. Lett. 21:10, 2014). For small
/// mismatches KL ~ chi2 / 2. The chi-square is evaluated as expm1 of its logarithm, so it stays accurate near zero.
/// </remarks>
public static class GaussianDivergence
{
    /// <summary>KL(N(m1, s1^2) || N(m0, s0^2)) = ln(s0 / s1) + (s1^2 + (m1 - m0)^2) / (2 s0^2) - 1/2.</summary>
    /// <param name="mean1">Mean m1 of the first law.</param>
    /// <param name="standardDeviation1">Standard deviation s1 &gt; 0 of the first law.</param>
    /// <param name="mean0">Mean m0 of the reference law.</param>
    /// <param name="standardDeviation0">Standard deviation s0 &gt; 0 of the reference law.</param>
    /// <returns>The divergence (non-negative).</returns>
    /// <exception cref="ArgumentException">A mean is not finite (the exception names it).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A standard deviation is not finite and positive.</exception>
    public static double KullbackLeibler(double mean1, double standardDeviation1, double mean0, double standardDeviation0)
    {
        RequireScalars(mean1, standardDeviation1, mean0, standardDeviation0);
        double dm = mean1 - mean0;
        double ratio = standardDeviation1 / standardDeviation0;
        return -Math.Log(ratio) + 0.5 * (ratio * ratio - 1) + dm * dm / (2 * standardDeviation0 * standardDeviation0);
    }

    /// <summary>KL(N(mu1, S1) || N(mu0, S0)) for full covariances.</summary>
    /// <param name="mean1">Mean of the first law, length d.</param>
    /// <param name="covariance1">Covariance of the first law, row-major d x d, symmetric positive definite.</param>
    /// <param name="mean0">Mean of the reference law, length d.</param>
    /// <param name="covariance0">Covariance of the reference law, row-major d x d, symmetric positive definite.</param>
    /// <param name="dimension">The dimension d (positive).</param>
    /// <returns>The divergence (non-negative).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A mean does not have length d or holds a non-finite value; a covariance does
    /// not have length d*d, holds a non-finite value, is not symmetric or is not positive definite (the exception
    /// names the argument).</exception>
    public static double KullbackLeibler(ReadOnlySpan<double> mean1, ReadOnlySpan<double> covariance1,
        ReadOnlySpan<double> mean0, ReadOnlySpan<double> covariance0, int dimension)
    {
        PointSetArguments.RequireDimension(dimension);
        RequireMean(mean1, dimension, nameof(mean1));
        RequireMean(mean0, dimension, nameof(mean0));
        var (s1, e1) = SymmetricPositiveMatrix.Read(covariance1, dimension, nameof(covariance1), requirePositiveDefinite: true);
        var (_, e0) = SymmetricPositiveMatrix.Read(covariance0, dimension, nameof(covariance0), requirePositiveDefinite: true);
        var inverse0 = SymmetricPositiveMatrix.Apply(e0, l => 1.0 / l);
        double trace = inverse0.TransposeThisAndMultiply(s1).Trace();
        double quadratic = 0;
        for (int i = 0; i < dimension; i++)
            for (int j = 0; j < dimension; j++)
                quadratic += (mean1[i] - mean0[i]) * inverse0[i, j] * (mean1[j] - mean0[j]);
        double logDetRatio = 0;
        for (int i = 0; i < dimension; i++)
            logDetRatio += Math.Log(e0.EigenValues[i].Real) - Math.Log(e1.EigenValues[i].Real);
        return Math.Max(0, 0.5 * (trace + quadratic - dimension + logDetRatio));
    }

    /// <summary>
    /// Pearson chi-square chi2(N(m1, s1^2) || N(m0, s0^2)) = s0^2 / (s1 sqrt(2 s0^2 - s1^2)) exp((m1 - m0)^2 / (2 s0^2 - s1^2)) - 1.
    /// </summary>
    /// <param name="mean1">Mean m1 of the first law.</param>
    /// <param name="standardDeviation1">Standard deviation s1 &gt; 0 of the first law.</param>
    /// <param name="mean0">Mean m0 of the reference law.</param>
    /// <param name="standardDeviation0">Standard deviation s0 &gt; 0 of the reference law.</param>
    /// <returns>The divergence, <see cref="double.PositiveInfinity"/> when 2 s0^2 &lt;= s1^2 (or on overflow).</returns>
    /// <exception cref="ArgumentException">A mean is not finite (the exception names it).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A standard deviation is not finite and positive.</exception>
    public static double ChiSquare(double mean1, double standardDeviation1, double mean0, double standardDeviation0)
    {
        RequireScalars(mean1, standardDeviation1, mean0, standardDeviation0);
        double dm = mean1 - mean0;
        return ChiSquareCore(dm * dm, standardDeviation1, standardDeviation0, 1);
    }

    /// <summary>
    /// Pearson chi-square between isotropic Gaussians, chi2(N(mu1, s1^2 I) || N(mu0, s0^2 I))
    /// = [s0^2 / (s1 sqrt(2 s0^2 - s1^2))]^d exp(|mu1 - mu0|^2 / (2 s0^2 - s1^2)) - 1, d the length of the means.
    /// </summary>
    /// <param name="mean1">Mean of the first law (length d &gt;= 1).</param>
    /// <param name="standardDeviation1">Standard deviation s1 &gt; 0 of each coordinate of the first law.</param>
    /// <param name="mean0">Mean of the reference law (length d).</param>
    /// <param name="standardDeviation0">Standard deviation s0 &gt; 0 of each coordinate of the reference law.</param>
    /// <returns>The divergence, <see cref="double.PositiveInfinity"/> when 2 s0^2 &lt;= s1^2 (or on overflow).</returns>
    /// <exception cref="ArgumentException">A mean is empty or holds a non-finite value, or <paramref name="mean0"/> has
    /// a different length than <paramref name="mean1"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A standard deviation is not finite and positive.</exception>
    public static double ChiSquareIsotropic(ReadOnlySpan<double> mean1, double standardDeviation1, ReadOnlySpan<double> mean0, double standardDeviation0)
    {
        PointSetArguments.RequireFiniteNonEmpty(mean1, nameof(mean1));
        RequireMean(mean0, mean1.Length, nameof(mean0));
        PointSetArguments.RequirePositive(standardDeviation1, nameof(standardDeviation1));
        PointSetArguments.RequirePositive(standardDeviation0, nameof(standardDeviation0));
        double dm2 = 0;
        for (int i = 0; i < mean1.Length; i++)
        {
            double dm = mean1[i] - mean0[i];
            dm2 += dm * dm;
        }
        return ChiSquareCore(dm2, standardDeviation1, standardDeviation0, mean1.Length);
    }

    private static double ChiSquareCore(double squaredMeanGap, double s1, double s0, int dimension)
    {
        // r = 2 s0^2 - s1^2, written as s0^2 (2 - rho^2) with rho = s1 / s0 to avoid needless rounding.
        double rho = s1 / s0;
        double shape = 2 - rho * rho;
        if (!(shape > 0)) return double.PositiveInfinity;
        double r = s0 * s0 * shape;
        // ln(s0^2 / (s1 sqrt(r))) = -ln(rho) - ln(2 - rho^2) / 2; at rho = 1 + delta this is O(delta^2), so use log1p.
        double delta = rho * rho - 1;
        double logFactor = -0.5 * LogOnePlus(delta) - 0.5 * LogOnePlus(-delta);
        double logOnePlusChi = dimension * logFactor + squaredMeanGap / r;
        return ExpMinusOne(logOnePlusChi);
    }

    private static double LogOnePlus(double x)
    {
        double u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    private static double ExpMinusOne(double x)
    {
        if (x > 709) return double.PositiveInfinity;
        double u = Math.Exp(x);
        if (u == 1) return x;
        double um1 = u - 1;
        if (um1 == -1) return -1;
        return Math.Abs(x) < 1 ? um1 * x / Math.Log(u) : um1;
    }

    private static void RequireScalars(double mean1, double standardDeviation1, double mean0, double standardDeviation0)
    {
        PointSetArguments.RequireFinite(mean1, nameof(mean1));
        PointSetArguments.RequireFinite(mean0, nameof(mean0));
        PointSetArguments.RequirePositive(standardDeviation1, nameof(standardDeviation1));
        PointSetArguments.RequirePositive(standardDeviation0, nameof(standardDeviation0));
    }

    private static void RequireMean(ReadOnlySpan<double> mean, int dimension, string paramName)
    {
        if (mean.Length != dimension)
            throw new ArgumentException($"The argument '{paramName}' has length {mean.Length}; expected {dimension}.", paramName);
        PointSetArguments.RequireFinite(mean, paramName);
    }
}
