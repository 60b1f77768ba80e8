using MathNet.Numerics.LinearAlgebra;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Tests.Onnx;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Tests.Denoisers;

/// <summary>
/// Jacobian-vector products of the <see cref="IDenoiserJacobian"/> implementations against central finite differences of
/// <see cref="IDenoiser.Denoise"/> and, for the Gaussian, against the closed form m C (m^2 C + sigma^2 I)^-1.
/// </summary>
public class DenoiserJacobianTests
{
    private static double[,] RandomCovariance(Random random, int d)
    {
        var b = Matrix<double>.Build.Dense(d, d, (_, _) => StandardNormal.Sample(random, 1)[0]);
        return (b * b.Transpose() * 0.4 + Matrix<double>.Build.DenseIdentity(d) * 0.1).ToArray();
    }

    private static GaussianMixtureDenoiser FullMixture()
    {
        var random = new Random(3);
        return GaussianMixtureDenoiser.Full([0.2, 0.5, 0.3], [-1.0, 1.0, 0.5, 1.0, -0.5, 0.0, 1.5, 0.5, 1.0],
            [RandomCovariance(random, 3), RandomCovariance(random, 3), RandomCovariance(random, 3)]);
    }

    private static GaussianMixtureDenoiser DiagonalMixture() => GaussianMixtureDenoiser.Diagonal(
        [0.4, 0.6], [-1.0, 0.5, 1.0, 0.0], [0.3, 0.5, 0.6, 0.2]);

    /// <summary>Rows near the data (so responsibilities are mixed) and tangents, both N(0, 1) based.</summary>
    private static (double[] X, double[] V) RowsAndTangents(int rows, int d, double m, double sigma, int seed)
    {
        var random = new Random(seed);
        var x = StandardNormal.Sample(random, rows * d);
        for (int i = 0; i < x.Length; i++) x[i] = m * x[i] + sigma * 0.5 * x[(i + 1) % x.Length];
        return (x, StandardNormal.Sample(random, rows * d));
    }

    /// <summary>(D(x + h v) - D(x - h v)) / (2 h), row by row (each row its own tangent).</summary>
    private static double[] FiniteDifference(IDenoiser denoiser, double[] x, double[] v, double m, double sigma, double h)
    {
        var plus = new double[x.Length];
        var minus = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            plus[i] = x[i] + h * v[i];
            minus[i] = x[i] - h * v[i];
        }
        var dPlus = new double[x.Length];
        var dMinus = new double[x.Length];
        denoiser.Denoise(plus, m, sigma, dPlus);
        denoiser.Denoise(minus, m, sigma, dMinus);
        var result = new double[x.Length];
        for (int i = 0; i < x.Length; i++) result[i] = (dPlus[i] - dMinus[i]) / (2 * h);
        return result;
    }

    private static void AssertMatchesFiniteDifference(IDenoiserJacobian denoiser, double m, double sigma, double h, double relativeTolerance)
    {
        int d = denoiser.Dimension;
        var (x, v) = RowsAndTangents(7, d, m, sigma, seed: 11);
        var x0 = new double[x.Length];
        var jv = new double[x.Length];
        denoiser.JacobianVectorProduct(x, m, sigma, v, x0, jv);
        var expectedX0 = new double[x.Length];
        denoiser.Denoise(x, m, sigma, expectedX0);
        var fd = FiniteDifference(denoiser, x, v, m, sigma, h);
        double scale = 0, worst = 0, worstX0 = 0, x0Scale = 0;
        for (int i = 0; i < x.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(fd[i]));
            worst = Math.Max(worst, Math.Abs(fd[i] - jv[i]));
            x0Scale = Math.Max(x0Scale, Math.Abs(expectedX0[i]));
            worstX0 = Math.Max(worstX0, Math.Abs(expectedX0[i] - x0[i]));
        }
        Assert.True(worst <= relativeTolerance * Math.Max(scale, 1e-3), $"max |Jv - FD| = {worst:E3}, scale {scale:E3} (m={m}, sigma={sigma})");
        Assert.True(worstX0 <= 1e-6 * Math.Max(1, x0Scale), $"x0 differs from Denoise by {worstX0:E3}");
    }

    public static TheoryData<double, double> Levels => new() { { 1.0, 0.3 }, { 0.8, 0.6 }, { 0.3, 0.95 }, { 0.99, 0.05 }, { 1.0, 3.0 } };

    [Theory]
    [MemberData(nameof(Levels))]
    public void FullMixtureMatchesFiniteDifferences(double m, double sigma) => AssertMatchesFiniteDifference(FullMixture(), m, sigma, 1e-5 * sigma, 1e-6);

    [Theory]
    [MemberData(nameof(Levels))]
    public void DiagonalMixtureMatchesFiniteDifferences(double m, double sigma) => AssertMatchesFiniteDifference(DiagonalMixture(), m, sigma, 1e-5 * sigma, 1e-6);

    [Theory]
    [MemberData(nameof(Levels))]
    public void GaussianMatchesFiniteDifferences(double m, double sigma)
    {
        AssertMatchesFiniteDifference(GaussianDenoiser.Diagonal([1.0, -2.0, 0.5], [0.5, 2.0, 1.0]), m, sigma, 1e-4, 1e-7);
        AssertMatchesFiniteDifference(GaussianDenoiser.Full([1.0, -2.0, 0.5], RandomCovariance(new Random(5), 3)), m, sigma, 1e-4, 1e-7);
    }

    [Fact]
    public void GaussianMatchesClosedForm()
    {
        var c = RandomCovariance(new Random(9), 4);
        var denoiser = GaussianDenoiser.Full([0.5, -1.0, 2.0, 0.0], c);
        double m = 0.7, sigma = 0.4;
        var cm = Matrix<double>.Build.DenseOfArray(c);
        var jacobian = m * cm * (m * m * cm + sigma * sigma * Matrix<double>.Build.DenseIdentity(4)).Inverse();
        var (x, v) = RowsAndTangents(5, 4, m, sigma, seed: 2);
        var x0 = new double[x.Length];
        var jv = new double[x.Length];
        denoiser.JacobianVectorProduct(x, m, sigma, v, x0, jv);
        for (int r = 0; r < 5; r++)
        {
            var expected = jacobian * Vector<double>.Build.DenseOfArray(v[(r * 4)..((r + 1) * 4)]);
            for (int j = 0; j < 4; j++) Assert.Equal(expected[j], jv[r * 4 + j], 1e-12);
        }
    }

    [Fact]
    public void MixtureJacobianIsSymmetricPositiveSemiDefinite()
    {
        // J = (m / sigma^2) Cov[y | x]: u^T J v = v^T J u and v^T J v >= 0.
        var mixture = FullMixture();
        double m = 0.8, sigma = 0.6;
        var (x, u) = RowsAndTangents(6, 3, m, sigma, seed: 4);
        var (_, v) = RowsAndTangents(6, 3, m, sigma, seed: 5);
        var x0 = new double[x.Length];
        var ju = new double[x.Length];
        var jv = new double[x.Length];
        mixture.JacobianVectorProduct(x, m, sigma, u, x0, ju);
        mixture.JacobianVectorProduct(x, m, sigma, v, x0, jv);
        for (int r = 0; r < 6; r++)
        {
            double uJv = 0, vJu = 0, vJv = 0;
            for (int j = 0; j < 3; j++)
            {
                uJv += u[r * 3 + j] * jv[r * 3 + j];
                vJu += v[r * 3 + j] * ju[r * 3 + j];
                vJv += v[r * 3 + j] * jv[r * 3 + j];
            }
            Assert.Equal(uJv, vJu, 1e-10);
            Assert.True(vJv >= -1e-12, $"v^T J v = {vJv}");
        }
    }

    [Fact]
    public void AtZeroNoiseJacobianIsIdentityOverM()
    {
        var mixture = FullMixture();
        var (x, v) = RowsAndTangents(3, 3, 1, 0.1, seed: 8);
        var x0 = new double[x.Length];
        var jv = new double[x.Length];
        mixture.JacobianVectorProduct(x, 0.5, 0, v, x0, jv);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(x[i] / 0.5, x0[i], 1e-14);
            Assert.Equal(v[i] / 0.5, jv[i], 1e-14);
        }
    }

    public static TheoryData<Parametrisation, bool> NeuralCases => new()
    {
        { Parametrisation.Edm, true }, { Parametrisation.Epsilon, false }, { Parametrisation.Velocity, true }, { Parametrisation.Data, false },
    };

    [Theory]
    [MemberData(nameof(NeuralCases))]
    public void NeuralMatchesFiniteDifferences(Parametrisation parametrisation, bool residual)
    {
        // The network runs in float: a step of 1e-2 balances truncation (h^2) against rounding (1e-7 / h).
        var denoiser = ExportTestModels.Random(3, residual ? ExportTestModels.ResidualEveryLayer : ExportTestModels.Plain, parametrisation, seed: 21);
        foreach (var (m, sigma) in new[] { (0.9, 0.4), (0.5, 1.5), (1.0, 0.1) })
            AssertMatchesFiniteDifference(denoiser, m, sigma, 1e-2, 2e-3);
    }

    [Fact]
    public void NeuralJacobianVectorProductAllocatesNothingAfterWarmUp()
    {
        var denoiser = ExportTestModels.Random(3, ExportTestModels.ResidualEveryLayer, Parametrisation.Edm, seed: 2);
        var (x, v) = RowsAndTangents(32, 3, 0.8, 0.5, seed: 1);
        var x0 = new double[x.Length];
        var jv = new double[x.Length];
        denoiser.JacobianVectorProduct(x, 0.8, 0.5, v, x0, jv);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) denoiser.JacobianVectorProduct(x, 0.8, 0.5, v, x0, jv);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"allocated {allocated} bytes");
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        var mixture = DiagonalMixture();
        var x = new double[4];
        var ok = new double[4];
        Assert.Equal("v", Assert.Throws<ArgumentException>(() => mixture.JacobianVectorProduct(x, 1, 0.5, new double[3], new double[4], new double[4])).ParamName);
        Assert.Equal("jv", Assert.Throws<ArgumentException>(() => mixture.JacobianVectorProduct(x, 1, 0.5, ok, new double[4], new double[2])).ParamName);
        Assert.Equal("v", Assert.Throws<ArgumentException>(() => mixture.JacobianVectorProduct(x, 1, 0.5, [0, double.NaN, 0, 0], new double[4], new double[4])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => mixture.JacobianVectorProduct(new double[3], 1, 0.5, new double[3], new double[3], new double[3])).ParamName);
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => mixture.JacobianVectorProduct(x, 0, 0.5, ok, new double[4], new double[4])).ParamName);
        var shared = new double[4];
        Assert.Equal("jv", Assert.Throws<ArgumentException>(() => mixture.JacobianVectorProduct(x, 1, 0.5, ok, shared, shared)).ParamName);
    }
}
