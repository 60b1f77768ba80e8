using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace MLExtensions.Diffusion.Transport;

/// <summary>
/// Validation and spectral functions (square root, inverse square root) of symmetric positive (semi-)definite
/// matrices given row-major, through MathNet.Numerics' symmetric eigen-decomposition.
/// </summary>
internal static class SymmetricPositiveMatrix
{
    /// <summary>Relative tolerance used for the symmetry check and for deciding positive (semi-)definiteness.</summary>
    public const double RelativeTolerance = 1e-10;

    /// <summary>
    /// Reads a row-major <paramref name="dimension"/> x <paramref name="dimension"/> matrix, checking its size,
    /// finiteness, symmetry (relative to its largest entry) and definiteness, and returns it symmetrised together
    /// with its eigen-decomposition.
    /// </summary>
    /// <param name="values">Row-major entries.</param>
    /// <param name="dimension">Matrix order.</param>
    /// <param name="paramName">Name of the argument, for exceptions.</param>
    /// <param name="requirePositiveDefinite">
    /// When true, every eigenvalue must exceed <see cref="RelativeTolerance"/> times the largest; otherwise eigenvalues
    /// down to -<see cref="RelativeTolerance"/> times the largest are accepted and clamped to zero.
    /// </param>
    public static (Matrix<double> Matrix, Evd<double> Eigen) Read(
        ReadOnlySpan<double> values, int dimension, string paramName, bool requirePositiveDefinite)
    {
        if (values.Length != dimension * dimension)
            throw new ArgumentException(
                $"The argument '{paramName}' has length {values.Length}; expected {dimension * dimension} (a {dimension}x{dimension} row-major matrix).",
                paramName);
        PointSetArguments.RequireFinite(values, paramName);
        double scale = 0;
        for (int i = 0; i < values.Length; i++) scale = Math.Max(scale, Math.Abs(values[i]));
        var m = Matrix<double>.Build.Dense(dimension, dimension);
        for (int i = 0; i < dimension; i++)
        {
            for (int j = 0; j < dimension; j++)
            {
                double aij = values[i * dimension + j], aji = values[j * dimension + i];
                if (Math.Abs(aij - aji) > RelativeTolerance * scale)
                    throw new ArgumentException($"The matrix '{paramName}' is not symmetric (entries ({i},{j}) and ({j},{i})).", paramName);
                m[i, j] = 0.5 * (aij + aji);
            }
        }
        var evd = m.Evd(Symmetricity.Symmetric);
        double maxEig = 0, minEig = double.PositiveInfinity;
        for (int i = 0; i < dimension; i++)
        {
            double e = evd.EigenValues[i].Real;
            maxEig = Math.Max(maxEig, e);
            minEig = Math.Min(minEig, e);
        }
        if (requirePositiveDefinite ? !(minEig > RelativeTolerance * maxEig) : minEig < -RelativeTolerance * maxEig)
            throw new ArgumentException(
                $"The matrix '{paramName}' is not symmetric positive {(requirePositiveDefinite ? "definite" : "semi-definite")} (smallest eigenvalue {minEig:G6}).",
                paramName);
        return (m, evd);
    }

    /// <summary>Returns V diag(g(lambda)) V^T for the decomposition <paramref name="eigen"/>, eigenvalues clamped at zero.</summary>
    public static Matrix<double> Apply(Evd<double> eigen, Func<double, double> g)
    {
        var v = eigen.EigenVectors;
        int n = v.RowCount;
        var diag = new double[n];
        for (int i = 0; i < n; i++) diag[i] = g(Math.Max(eigen.EigenValues[i].Real, 0));
        var scaled = v.Clone();
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
                scaled[i, j] *= diag[j];
        var result = scaled.TransposeAndMultiply(v);
        return Symmetrize(result);
    }

    /// <summary>Principal square root of a symmetric positive semi-definite matrix.</summary>
    public static Matrix<double> Sqrt(Evd<double> eigen) => Apply(eigen, Math.Sqrt);

    /// <summary>Inverse principal square root of a symmetric positive definite matrix.</summary>
    public static Matrix<double> InverseSqrt(Evd<double> eigen) => Apply(eigen, l => 1.0 / Math.Sqrt(l));

    /// <summary>Returns (M + M^T) / 2.</summary>
    public static Matrix<double> Symmetrize(Matrix<double> m) => (m + m.Transpose()) * 0.5;
}
