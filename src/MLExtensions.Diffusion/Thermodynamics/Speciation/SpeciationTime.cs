using MLExtensions.Diffusion.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// Speciation times of the Ornstein-Uhlenbeck forward process dX = -X dt + sqrt(2) dB: the time above which the
/// noised law no longer "knows" which class a sample came from (SPEC section 7). Three definitions are in use; each
/// has its own method and they differ at large separation (see remarks).
/// </summary>
/// <remarks>
/// <para>For q = 1/2 N(+mu, s^2 I) + 1/2 N(-mu, s^2 I), with Lambda = |mu|^2 + s^2 the top eigenvalue of the data
/// covariance:</para>
/// <list type="bullet">
/// <item><see cref="CurvatureAtOrigin"/>: the time at which the curvature of -ln P_t at the origin along mu changes
/// sign, 1/2 ln(|mu|^2 + 1 - s^2).</item>
/// <item><see cref="YuHuang(SymmetricGaussianMixtureOu)"/>: Yu and Huang (Phys. Rev. E 111, 014111),
/// 1/2 ln(|mu|^2 + sqrt(|mu|^4 + (s^2 - 1)^2)).</item>
/// <item><see cref="BiroliMezard(double)"/>: Biroli, Bonnaire, de Bortoli, Mezard (arXiv:2402.18491), 1/2 ln Lambda.</item>
/// </list>
/// <para>The curvature and Biroli-Mezard times differ by (1 - 2 s^2) / (2 Lambda) + O(1/Lambda^2). The Yu-Huang
/// formula as written in SPEC section 7 tends to 1/2 ln(2 |mu|^2), so it sits (ln 2) / 2 above the other two plus
/// O(1/Lambda): the difference is a constant, not O(1/Lambda) as SPEC section 7 states.</para>
/// <para>All three return 0 when their formula would give a negative time (or the logarithm of a non-positive
/// number): the data law is then already unimodal along mu and there is no speciation to cross.</para>
/// </remarks>
public static class SpeciationTime
{
    /// <summary>
    /// The time at which -d^2/du^2 ln P_t at the origin along mu changes sign: t_s = 1/2 ln(|mu|^2 + 1 - s^2),
    /// or 0 when |mu|^2 &lt;= s^2 (P_t is then never bimodal).
    /// </summary>
    /// <param name="mixture">The symmetric mixture.</param>
    /// <exception cref="ArgumentNullException"><paramref name="mixture"/> is null.</exception>
    public static double CurvatureAtOrigin(SymmetricGaussianMixtureOu mixture)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        return HalfLogOrZero(mixture.MuNormSquared + 1 - mixture.S * mixture.S);
    }

    /// <summary>The Yu-Huang speciation time 1/2 ln(|mu|^2 + sqrt(|mu|^4 + (s^2 - 1)^2)), or 0 when that is negative.</summary>
    /// <param name="mixture">The symmetric mixture.</param>
    /// <exception cref="ArgumentNullException"><paramref name="mixture"/> is null.</exception>
    public static double YuHuang(SymmetricGaussianMixtureOu mixture)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        double m2 = mixture.MuNormSquared, c = mixture.S * mixture.S - 1;
        return HalfLogOrZero(m2 + Math.Sqrt(m2 * m2 + c * c));
    }

    /// <summary>The Biroli-Mezard speciation time 1/2 ln Lambda with Lambda = |mu|^2 + s^2.</summary>
    /// <param name="mixture">The symmetric mixture.</param>
    /// <exception cref="ArgumentNullException"><paramref name="mixture"/> is null.</exception>
    public static double BiroliMezard(SymmetricGaussianMixtureOu mixture)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        return BiroliMezard(mixture.TopCovarianceEigenvalue);
    }

    /// <summary>The Biroli-Mezard speciation time 1/2 ln Lambda, or 0 when Lambda &lt;= 1.</summary>
    /// <param name="lambda">Lambda, the top eigenvalue of the data covariance; finite and positive.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is not finite and positive.</exception>
    public static double BiroliMezard(double lambda)
    {
        if (!double.IsFinite(lambda) || lambda <= 0)
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "The top covariance eigenvalue Lambda must be finite and positive.");
        return HalfLogOrZero(lambda);
    }

    /// <summary>The Biroli-Mezard speciation time 1/2 ln Lambda, Lambda the top eigenvalue of the sample covariance of the data rows.</summary>
    /// <param name="dataRows">Data rows, row-major.</param>
    /// <param name="dimension">Features per row, d &gt;= 1.</param>
    /// <exception cref="ArgumentException">See <see cref="TopCovarianceEigenvalue"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">See <see cref="TopCovarianceEigenvalue"/>.</exception>
    public static double BiroliMezard(ReadOnlySpan<double> dataRows, int dimension) =>
        BiroliMezard(TopCovarianceEigenvalue(dataRows, dimension));

    /// <summary>The Biroli-Mezard speciation time 1/2 ln Lambda for a data matrix with one sample per row.</summary>
    /// <param name="data">The data matrix, n rows (samples) by d columns (features).</param>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentException">Fewer than two rows, a non-finite entry, or zero variance.</exception>
    public static double BiroliMezard(Matrix<double> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var rows = new double[data.RowCount * data.ColumnCount];
        for (int r = 0; r < data.RowCount; r++)
            for (int j = 0; j < data.ColumnCount; j++) rows[r * data.ColumnCount + j] = data[r, j];
        try
        {
            return BiroliMezard(TopCovarianceEigenvalue(rows, data.ColumnCount));
        }
        catch (ArgumentException e) when (e.ParamName == "dataRows")
        {
            throw new ArgumentException(e.Message, nameof(data), e);
        }
    }

    /// <summary>
    /// The top eigenvalue of the sample covariance (1/(n - 1) normalisation) of the data rows, by MathNet's symmetric
    /// eigen-decomposition.
    /// </summary>
    /// <param name="dataRows">Data rows, row-major; at least two rows, all finite.</param>
    /// <param name="dimension">Features per row, d &gt;= 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="dataRows"/> is not a multiple of the dimension, has fewer
    /// than two rows, holds a non-finite value, or has zero variance.</exception>
    public static double TopCovarianceEigenvalue(ReadOnlySpan<double> dataRows, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (dataRows.Length % dimension != 0 || dataRows.Length / dimension < 2)
            throw new ArgumentException($"The data must hold at least two rows of {dimension} features (got length {dataRows.Length}).", nameof(dataRows));
        int n = dataRows.Length / dimension;
        foreach (double v in dataRows)
            if (!double.IsFinite(v)) throw new ArgumentException("The data hold a non-finite value.", nameof(dataRows));
        var scatter = new double[dimension * dimension];
        SampleMoments.WeightedScatter(dataRows, dimension, ReadOnlySpan<double>.Empty, new double[dimension], scatter);
        var cov = Matrix<double>.Build.Dense(dimension, dimension, (a, b) => scatter[a * dimension + b] / (n - 1));
        double top = cov.Evd(Symmetricity.Symmetric).EigenValues.Real().Maximum();
        if (!(top > 0)) throw new ArgumentException("The data have zero variance.", nameof(dataRows));
        return top;
    }

    private static double HalfLogOrZero(double argument) => argument > 1 ? 0.5 * Math.Log(argument) : 0;
}
