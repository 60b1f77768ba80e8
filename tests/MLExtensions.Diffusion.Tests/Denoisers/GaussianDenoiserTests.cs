using MathNet.Numerics.LinearAlgebra;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;

namespace MLExtensions.Diffusion.Tests.Denoisers;

public class GaussianDenoiserTests
{
    private static readonly double[] Mean = [0.5, -1.0, 2.0];
    private static readonly double[,] Covariance = { { 1.0, 0.3, -0.2 }, { 0.3, 0.5, 0.1 }, { -0.2, 0.1, 0.8 } };

    public static TheoryData<double, double> NoiseLevels => new() { { 1.0, 0.3 }, { 0.6, 0.8 }, { 0.05, 1.0 }, { 2.0, 5.0 } };

    [Theory]
    [MemberData(nameof(NoiseLevels))]
    public void DiagonalMatchesThePerCoordinateClosedForm(double m, double sigma)
    {
        double[] variance = [0.4, 1.5, 2.0];
        var denoiser = GaussianDenoiser.Diagonal(Mean, variance);
        double[] x = StandardNormal.Sample(new Random(1), 12), x0 = new double[12];
        denoiser.Denoise(x, m, sigma, x0);
        for (int i = 0; i < x.Length; i++)
        {
            double v = variance[i % 3], mu = Mean[i % 3];
            Assert.Equal(mu + m * v * (x[i] - m * mu) / (m * m * v + sigma * sigma), x0[i], 1e-12);
        }
    }

    [Theory]
    [MemberData(nameof(NoiseLevels))]
    public void IsotropicMarginalMatchesSpecSection8(double m, double sigma)
    {
        const double s0 = 0.7;
        var denoiser = GaussianDenoiser.Isotropic(Mean, s0);
        double s2 = m * m * s0 * s0 + sigma * sigma;
        double[] x = StandardNormal.Sample(new Random(2), 3), score = new double[3];
        denoiser.Score(x, m, sigma, score);
        double quad = 0;
        for (int j = 0; j < 3; j++)
        {
            Assert.Equal(-(x[j] - m * Mean[j]) / s2, score[j], 1e-12);
            quad += (x[j] - m * Mean[j]) * (x[j] - m * Mean[j]);
        }
        Assert.Equal(-1.5 * Math.Log(2 * Math.PI * s2) - 0.5 * quad / s2, denoiser.LogDensity(x, m, sigma), 1e-12);
    }

    [Theory]
    [MemberData(nameof(NoiseLevels))]
    public void FullMatchesTheMatrixClosedForm(double m, double sigma)
    {
        var denoiser = GaussianDenoiser.Full(Mean, Covariance);
        var c = Matrix<double>.Build.DenseOfArray(Covariance);
        var mu = Vector<double>.Build.DenseOfArray(Mean);
        var s = c * (m * m) + Matrix<double>.Build.DenseIdentity(3) * (sigma * sigma);
        double[] x = StandardNormal.Sample(new Random(3), 9), x0 = new double[9], score = new double[9];
        denoiser.Denoise(x, m, sigma, x0);
        denoiser.Score(x, m, sigma, score);
        for (int r = 0; r < 3; r++)
        {
            var delta = Vector<double>.Build.DenseOfArray(x[(3 * r)..(3 * r + 3)]) - mu * m;
            var expected = mu + c * s.Solve(delta) * m;
            var expectedScore = -s.Solve(delta);
            double expectedLog = -0.5 * (3 * Math.Log(2 * Math.PI) + Math.Log(s.Determinant()) + delta * s.Solve(delta));
            for (int j = 0; j < 3; j++)
            {
                Assert.Equal(expected[j], x0[3 * r + j], 1e-10);
                Assert.Equal(expectedScore[j], score[3 * r + j], 1e-9 * (1 + Math.Abs(expectedScore[j])));
            }
            Assert.Equal(expectedLog, denoiser.LogDensity(x.AsSpan(3 * r, 3), m, sigma), 1e-10);
        }
    }

    [Theory]
    [MemberData(nameof(NoiseLevels))]
    public void FullWithDiagonalCovarianceEqualsDiagonal(double m, double sigma)
    {
        double[] variance = [0.4, 1.5, 2.0];
        var diagonal = GaussianDenoiser.Diagonal(Mean, variance);
        var full = GaussianDenoiser.Full(Mean, new double[,] { { 0.4, 0, 0 }, { 0, 1.5, 0 }, { 0, 0, 2.0 } });
        Assert.False(full.IsDiagonal);
        Assert.True(diagonal.IsDiagonal);
        for (int j = 0; j < 3; j++) Assert.Equal(variance[j], full.Variance[j], 14);
        double[] x = StandardNormal.Sample(new Random(4), 15);
        double[] a = new double[15], b = new double[15];
        diagonal.Denoise(x, m, sigma, a);
        full.Denoise(x, m, sigma, b);
        for (int i = 0; i < 15; i++) Assert.Equal(a[i], b[i], 1e-12);
        diagonal.Score(x, m, sigma, a);
        full.Score(x, m, sigma, b);
        for (int i = 0; i < 15; i++) Assert.Equal(a[i], b[i], 1e-10);
        Assert.Equal(diagonal.LogDensity(x.AsSpan(0, 3), m, sigma), full.LogDensity(x.AsSpan(0, 3), m, sigma), 1e-12);
    }

    [Theory]
    [MemberData(nameof(NoiseLevels))]
    public void FullEqualsTheOneComponentMixture(double m, double sigma)
    {
        var denoiser = GaussianDenoiser.Full(Mean, Covariance);
        var mixture = GaussianMixtureDenoiser.Full([5.0], Mean, [Covariance]);
        var twin = GaussianMixtureDenoiser.Full([1.0, 3.0], [.. Mean, .. Mean], [Covariance, Covariance]);
        double[] x = StandardNormal.Sample(new Random(5), 9);
        double[] a = new double[9], b = new double[9], c = new double[9];
        denoiser.Denoise(x, m, sigma, a);
        mixture.Denoise(x, m, sigma, b);
        twin.Denoise(x, m, sigma, c);
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(a[i], b[i], 1e-13);
            Assert.Equal(a[i], c[i], 1e-12);
        }
        Assert.Equal(denoiser.LogDensity(x.AsSpan(3, 3), m, sigma), twin.LogDensity(x.AsSpan(3, 3), m, sigma), 1e-12);
    }

    [Fact]
    public void CovarianceRoundTripsAndSigmaZeroIsTheIdentity()
    {
        var denoiser = GaussianDenoiser.Full(Mean, Covariance);
        var back = denoiser.GetCovariance();
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(Covariance[i, j], back[i, j], 1e-14);
        double[] x = [1.0, -3.0, 0.25], x0 = new double[3];
        denoiser.Denoise(x, 0.5, 0.0, x0);
        Assert.Equal([2.0, -6.0, 0.5], x0);
    }

    [Fact]
    public void FullStaysFiniteAtExtremes()
    {
        var denoiser = GaussianDenoiser.Full(Mean, Covariance);
        double[] x = [1e3, -1e3, 1e3], x0 = new double[3], score = new double[3];
        foreach (var (m, sigma) in new[] { (1e-6, 1e-8), (1.0, 1e-8), (1e-6, 1.0) })
        {
            denoiser.Denoise(x, m, sigma, x0);
            denoiser.Score(x, m, sigma, score);
            Assert.All(x0, v => Assert.True(double.IsFinite(v)));
            Assert.All(score, v => Assert.True(double.IsFinite(v)));
            Assert.True(double.IsFinite(denoiser.LogDensity(x, m, sigma)));
        }
    }

    [Fact]
    public void BadInputIsRejectedNamingTheArgument()
    {
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => GaussianDenoiser.Full([double.NaN, 0], new double[,] { { 1, 0 }, { 0, 1 } })).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => GaussianDenoiser.Full([], new double[0, 0])).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => GaussianDenoiser.Full([0, 0], new double[,] { { 1, 2 }, { 2, 1 } })).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => GaussianDenoiser.Full([0, 0], new double[,] { { -1, 0 }, { 0, -1 } })).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => GaussianDenoiser.Full([0, 0, 0], new double[,] { { 1, 0 }, { 0, 1 } })).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentNullException>(() => GaussianDenoiser.Full([0, 0], null!)).ParamName);
        Assert.Equal("variance", Assert.Throws<ArgumentException>(() => GaussianDenoiser.Diagonal([0, 0], [1, -1])).ParamName);
        Assert.Equal("variance", Assert.Throws<ArgumentException>(() => GaussianDenoiser.Diagonal([0, 0], [1])).ParamName);
        Assert.Equal("standardDeviation", Assert.Throws<ArgumentException>(() => GaussianDenoiser.Isotropic([0, 0], 0)).ParamName);
    }
}
