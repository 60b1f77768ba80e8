using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using MLExtensions.Diffusion.Randomness;

namespace MLExtensions.Diffusion.Denoisers;

/// <summary>
/// One Gaussian N(mu, C) stored in its principal axes C = A diag(lambda) A^T (A orthogonal; the identity for diagonal C),
/// with the per-noise-level algebra of x = m y + sigma eps done there: in the principal axes
/// m^2 C + sigma^2 I = A diag(s) A^T with s_i = m^2 lambda_i + sigma^2, so that
/// E[y | x] = mu + A diag(m lambda / s) A^T (x - m mu) and grad ln N(x; m mu, m^2 C + sigma^2 I) = -A diag(1 / s) A^T (x - m mu)
/// (SPEC section 8). Nothing is inverted, so the formulas stay finite as sigma -&gt; 0 or m -&gt; 0.
/// </summary>
/// <remarks>Immutable and thread-safe; callers pass their own scratch.</remarks>
internal sealed class GaussianComponent
{
    private static readonly double LogTwoPi = Math.Log(2 * Math.PI);

    private readonly double[] _mean;
    private readonly double[] _eigenvalues;
    private readonly double[]? _axes; // row i = unit eigenvector i, row-major d x d; null: the coordinate axes.

    private GaussianComponent(double[] mean, double[] eigenvalues, double[]? axes)
    {
        _mean = mean;
        _eigenvalues = eigenvalues;
        _axes = axes;
    }

    /// <summary>The dimension d.</summary>
    public int Dimension => _mean.Length;

    /// <summary>The mean mu.</summary>
    public ReadOnlySpan<double> Mean => _mean;

    /// <summary>Whether the covariance is diagonal (stored without axes).</summary>
    public bool IsDiagonal => _axes is null;

    /// <summary>N(mean, diag(variance)); validates and copies.</summary>
    public static GaussianComponent Diagonal(ReadOnlySpan<double> mean, ReadOnlySpan<double> variance, string meanName, string varianceName, string what)
    {
        CheckMean(mean, meanName, what);
        if (variance.Length != mean.Length)
            throw new ArgumentException($"{what}: the variance has {variance.Length} entries but the mean has {mean.Length}.", varianceName);
        foreach (double v in variance)
            if (!double.IsFinite(v) || v <= 0)
                throw new ArgumentException($"{what}: every variance must be finite and positive (got {v}).", varianceName);
        return new GaussianComponent(mean.ToArray(), variance.ToArray(), null);
    }

    /// <summary>N(mean, covariance) with a symmetric positive-definite covariance; validates, copies and diagonalises it (MathNet symmetric eigendecomposition).</summary>
    public static GaussianComponent Full(ReadOnlySpan<double> mean, double[,]? covariance, string meanName, string covarianceName, string what)
    {
        CheckMean(mean, meanName, what);
        if (covariance is null) throw new ArgumentNullException(covarianceName, $"{what}: the covariance must not be null.");
        int d = mean.Length;
        if (covariance.GetLength(0) != d || covariance.GetLength(1) != d)
            throw new ArgumentException($"{what}: the covariance is {covariance.GetLength(0)} x {covariance.GetLength(1)} but the mean has {d} entries.", covarianceName);
        double scale = 0;
        foreach (double c in covariance)
        {
            if (!double.IsFinite(c)) throw new ArgumentException($"{what}: the covariance holds a non-finite value.", covarianceName);
            scale = Math.Max(scale, Math.Abs(c));
        }
        var symmetric = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                if (Math.Abs(covariance[i, j] - covariance[j, i]) > 1e-10 * scale)
                    throw new ArgumentException($"{what}: the covariance is not symmetric (entries [{i},{j}] and [{j},{i}] differ).", covarianceName);
                symmetric[i, j] = 0.5 * (covariance[i, j] + covariance[j, i]);
            }
        var evd = Matrix<double>.Build.DenseOfArray(symmetric).Evd(Symmetricity.Symmetric);
        var eigenvalues = new double[d];
        var axes = new double[d * d];
        double largest = 0;
        for (int i = 0; i < d; i++)
        {
            eigenvalues[i] = evd.EigenValues[i].Real;
            largest = Math.Max(largest, eigenvalues[i]);
            for (int j = 0; j < d; j++) axes[i * d + j] = evd.EigenVectors[j, i];
        }
        double floor = d * 2.220446049250313e-16 * largest;
        foreach (double l in eigenvalues)
            if (!(l > floor))
                throw new ArgumentException(
                    $"{what}: the covariance is not positive definite (eigenvalue {l}, largest {largest}; every eigenvalue must exceed d * machine epsilon * largest).",
                    covarianceName);
        return new GaussianComponent(mean.ToArray(), eigenvalues, axes);
    }

    /// <summary>The diagonal of the covariance, C_jj = sum_i lambda_i A_ji^2.</summary>
    public double[] CovarianceDiagonal()
    {
        if (_axes is null) return (double[])_eigenvalues.Clone();
        int d = Dimension;
        var result = new double[d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                result[j] += _eigenvalues[i] * _axes[i * d + j] * _axes[i * d + j];
        return result;
    }

    /// <summary>The covariance C = A diag(lambda) A^T as a new array.</summary>
    public double[,] Covariance()
    {
        int d = Dimension;
        var result = new double[d, d];
        if (_axes is null)
        {
            for (int j = 0; j < d; j++) result[j, j] = _eigenvalues[j];
            return result;
        }
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++)
                    result[j, k] += _eigenvalues[i] * _axes[i * d + j] * _axes[i * d + k];
        return result;
    }

    /// <summary>
    /// Per noise level: writes 1 / s_i and the gains m lambda_i / s_i, s_i = m^2 lambda_i + sigma^2, and returns
    /// ln N's normaliser -1/2 (d ln 2 pi + ln det(m^2 C + sigma^2 I)).
    /// </summary>
    public double Prepare(double m, double sigma, Span<double> inverseVariance, Span<double> gain)
    {
        double s2 = sigma * sigma, logDet = 0;
        for (int i = 0; i < _eigenvalues.Length; i++)
        {
            double l = _eigenvalues[i], s = m * m * l + s2;
            inverseVariance[i] = 1.0 / s;
            gain[i] = m * l / s;
            logDet += Math.Log(s);
        }
        return -0.5 * (_eigenvalues.Length * LogTwoPi + logDet);
    }

    /// <summary>Writes z = A^T (x - m mu), the row's offset in the principal axes; <paramref name="delta"/> is scratch of length d.</summary>
    public void Project(ReadOnlySpan<double> x, double m, Span<double> delta, Span<double> z)
    {
        int d = Dimension;
        if (_axes is null)
        {
            for (int j = 0; j < d; j++) z[j] = x[j] - m * _mean[j];
            return;
        }
        for (int j = 0; j < d; j++) delta[j] = x[j] - m * _mean[j];
        ReadOnlySpan<double> axes = _axes;
        for (int i = 0; i < d; i++)
        {
            ReadOnlySpan<double> axis = axes.Slice(i * d, d);
            double sum = 0;
            for (int j = 0; j < d; j++) sum += axis[j] * delta[j];
            z[i] = sum;
        }
    }

    /// <summary>The Mahalanobis form sum_i z_i^2 / s_i.</summary>
    public static double Quadratic(ReadOnlySpan<double> z, ReadOnlySpan<double> inverseVariance)
    {
        double q = 0;
        for (int i = 0; i < z.Length; i++) q += z[i] * z[i] * inverseVariance[i];
        return q;
    }

    /// <summary>accumulator += weight (mu + A diag(gain) z): the weighted posterior mean E[y | x] of this component.</summary>
    public void AddPosteriorMean(ReadOnlySpan<double> z, ReadOnlySpan<double> gain, double weight, Span<double> accumulator)
    {
        int d = Dimension;
        if (_axes is null)
        {
            for (int j = 0; j < d; j++) accumulator[j] += weight * (_mean[j] + gain[j] * z[j]);
            return;
        }
        for (int j = 0; j < d; j++) accumulator[j] += weight * _mean[j];
        AddAlongAxes(z, gain, weight, accumulator);
    }

    /// <summary>
    /// The batched posterior mean of a lone diagonal component, x0 = mu + gain (x - m mu) per coordinate, over all rows
    /// (the fast path of <see cref="AddPosteriorMean"/> with weight 1).
    /// </summary>
    public void DiagonalPosteriorMean(ReadOnlySpan<double> x, double m, ReadOnlySpan<double> gain, Span<double> x0)
    {
        int d = Dimension;
        double[] mean = _mean;
        for (int o = 0; o < x.Length; o += d)
        {
            ReadOnlySpan<double> row = x.Slice(o, d);
            Span<double> destination = x0.Slice(o, d);
            for (int j = 0; j < row.Length; j++) destination[j] = mean[j] + gain[j] * (row[j] - m * mean[j]);
        }
    }

    /// <summary>accumulator -= weight A diag(1 / s) z: the weighted score of N(x; m mu, m^2 C + sigma^2 I).</summary>
    public void AddScore(ReadOnlySpan<double> z, ReadOnlySpan<double> inverseVariance, double weight, Span<double> accumulator)
    {
        int d = Dimension;
        if (_axes is null)
        {
            for (int j = 0; j < d; j++) accumulator[j] -= weight * inverseVariance[j] * z[j];
            return;
        }
        AddAlongAxes(z, inverseVariance, -weight, accumulator);
    }

    /// <summary>accumulator += weight A diag(factor) w, for any covariance (w in the principal axes, e.g. a projected tangent).</summary>
    public void AddScaled(ReadOnlySpan<double> w, ReadOnlySpan<double> factor, double weight, Span<double> accumulator)
    {
        if (_axes is null)
        {
            for (int j = 0; j < w.Length; j++) accumulator[j] += weight * factor[j] * w[j];
            return;
        }
        AddAlongAxes(w, factor, weight, accumulator);
    }

    /// <summary>accumulator += weight A diag(factor) z (full covariance only).</summary>
    private void AddAlongAxes(ReadOnlySpan<double> z, ReadOnlySpan<double> factor, double weight, Span<double> accumulator)
    {
        int d = Dimension;
        ReadOnlySpan<double> axes = _axes;
        for (int i = 0; i < d; i++)
        {
            double c = weight * factor[i] * z[i];
            ReadOnlySpan<double> axis = axes.Slice(i * d, d);
            for (int j = 0; j < d; j++) accumulator[j] += c * axis[j];
        }
    }

    /// <summary>Draws y = mu + A diag(sqrt(lambda)) xi, xi ~ N(0, I), into <paramref name="row"/>; <paramref name="scratch"/> has length d.</summary>
    public void Sample(Random random, Span<double> row, Span<double> scratch)
    {
        int d = Dimension;
        if (_axes is null)
        {
            StandardNormal.Fill(random, row);
            for (int j = 0; j < d; j++) row[j] = _mean[j] + Math.Sqrt(_eigenvalues[j]) * row[j];
            return;
        }
        StandardNormal.Fill(random, scratch);
        _mean.CopyTo(row);
        ReadOnlySpan<double> axes = _axes;
        for (int i = 0; i < d; i++)
            TensorPrimitives.MultiplyAdd(axes.Slice(i * d, d), Math.Sqrt(_eigenvalues[i]) * scratch[i], row, row);
    }

    private static void CheckMean(ReadOnlySpan<double> mean, string meanName, string what)
    {
        if (mean.Length == 0) throw new ArgumentException($"{what}: the mean must not be empty.", meanName);
        foreach (double v in mean)
            if (!double.IsFinite(v)) throw new ArgumentException($"{what}: the mean holds a non-finite value.", meanName);
    }
}
