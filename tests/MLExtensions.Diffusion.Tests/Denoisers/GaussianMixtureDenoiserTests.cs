using MathNet.Numerics.LinearAlgebra;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Denoisers;

public class GaussianMixtureDenoiserTests
{
    private static readonly double[] Weights3 = [0.2, 0.5, 0.3];
    private static readonly double[] Means3 = [-2.0, 1.0, 0.5, 1.5, -1.0, 0.0, 2.5, 0.5, 1.0];

    private static double[,] RandomCovariance(Random random, int d)
    {
        var b = Matrix<double>.Build.Dense(d, d, (_, _) => StandardNormal.Sample(random, 1)[0]);
        var c = b * b.Transpose() * 0.3 + Matrix<double>.Build.DenseIdentity(d) * 0.1;
        return c.ToArray();
    }

    private static GaussianMixtureDenoiser FullMixture(int seed = 7)
    {
        var random = new Random(seed);
        return GaussianMixtureDenoiser.Full(Weights3, Means3, [RandomCovariance(random, 3), RandomCovariance(random, 3), RandomCovariance(random, 3)]);
    }

    private static GaussianMixtureDenoiser DiagonalMixture() => GaussianMixtureDenoiser.Diagonal(
        Weights3, Means3, [0.3, 0.5, 0.2, 1.0, 0.4, 0.6, 0.25, 0.25, 0.8]);

    public static TheoryData<double, double> NoiseLevels => new()
    {
        { 1.0, 0.5 }, { 0.8, 0.6 }, { 0.3, 0.95 }, { 0.95, 0.2 }, { 1.0, 2.5 }, { 0.1, 0.0 + 0.05 },
    };

    /// <summary>Independent closed form with MathNet inverses and determinants (SPEC section 8).</summary>
    private static (double logDensity, double[] mean, double[] score) Reference(GaussianMixtureDenoiser mixture, double[] x, double m, double sigma)
    {
        int d = mixture.Dimension, k = mixture.ComponentCount;
        var xv = Vector<double>.Build.DenseOfArray(x);
        var logs = new double[k];
        var means = new Vector<double>[k];
        var scores = new Vector<double>[k];
        for (int c = 0; c < k; c++)
        {
            var cov = Matrix<double>.Build.DenseOfArray(mixture.GetCovariance(c));
            var mu = Vector<double>.Build.DenseOfArray(mixture.Means.Slice(c * d, d).ToArray());
            var s = cov * (m * m) + Matrix<double>.Build.DenseIdentity(d) * (sigma * sigma);
            var inv = s.Inverse();
            var delta = xv - mu * m;
            logs[c] = Math.Log(mixture.Weights[c]) - 0.5 * (d * Math.Log(2 * Math.PI) + Math.Log(s.Determinant()) + delta * (inv * delta));
            means[c] = mu + cov * (inv * delta) * m;
            scores[c] = -(inv * delta);
        }
        double max = logs.Max(), sum = logs.Sum(l => Math.Exp(l - max));
        var mean = Vector<double>.Build.Dense(d);
        var score = Vector<double>.Build.Dense(d);
        for (int c = 0; c < k; c++)
        {
            double r = Math.Exp(logs[c] - max) / sum;
            mean += means[c] * r;
            score += scores[c] * r;
        }
        return (max + Math.Log(sum), mean.ToArray(), score.ToArray());
    }

    [Theory]
    [MemberData(nameof(NoiseLevels))]
    public void FullMixtureMatchesAnIndependentClosedForm(double m, double sigma)
    {
        var mixture = FullMixture();
        var random = new Random(11);
        double[] x = StandardNormal.Sample(random, 3 * 5);
        var mean = new double[x.Length];
        var score = new double[x.Length];
        var logDensity = new double[5];
        mixture.Denoise(x, m, sigma, mean);
        mixture.Score(x, m, sigma, score);
        mixture.LogDensity(x, m, sigma, logDensity);
        for (int r = 0; r < 5; r++)
        {
            var (l, mu, s) = Reference(mixture, x[(3 * r)..(3 * r + 3)], m, sigma);
            Assert.Equal(l, logDensity[r], 1e-9 * (1 + Math.Abs(l)));
            Assert.Equal(l, mixture.LogDensity(x.AsSpan(3 * r, 3), m, sigma), 1e-9 * (1 + Math.Abs(l)));
            for (int j = 0; j < 3; j++)
            {
                Assert.Equal(mu[j], mean[3 * r + j], 1e-9 * (1 + Math.Abs(mu[j])));
                Assert.Equal(s[j], score[3 * r + j], 1e-8 * (1 + Math.Abs(s[j])));
            }
        }
    }

    [Theory]
    [MemberData(nameof(NoiseLevels))]
    public void ScoreIsTheGradientOfTheLogDensity(double m, double sigma)
    {
        foreach (var mixture in new[] { FullMixture(), DiagonalMixture() })
        {
            var random = new Random(12);
            double[] x = StandardNormal.Sample(random, 3 * 4);
            var score = new double[x.Length];
            mixture.Score(x, m, sigma, score);
            const double h = 1e-5;
            for (int r = 0; r < 4; r++)
            {
                double[] row = x[(3 * r)..(3 * r + 3)];
                for (int j = 0; j < 3; j++)
                {
                    double keep = row[j];
                    row[j] = keep + h;
                    double plus = mixture.LogDensity(row, m, sigma);
                    row[j] = keep - h;
                    double minus = mixture.LogDensity(row, m, sigma);
                    row[j] = keep;
                    double fd = (plus - minus) / (2 * h);
                    Assert.Equal(fd, score[3 * r + j], 2e-5 * (1 + Math.Abs(fd)));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(NoiseLevels))]
    public void ScoreAgreesWithTheDenoiserByTweedie(double m, double sigma)
    {
        foreach (var mixture in new[] { FullMixture(), DiagonalMixture() })
        {
            double[] x = StandardNormal.Sample(new Random(13), 3 * 6);
            var x0 = new double[x.Length];
            var score = new double[x.Length];
            var tweedie = new double[x.Length];
            mixture.Denoise(x, m, sigma, x0);
            mixture.Score(x, m, sigma, score);
            PredictionConversions.ScoreFromX0(x, x0, m, sigma, tweedie);
            for (int i = 0; i < x.Length; i++) Assert.Equal(tweedie[i], score[i], 1e-8 * (1 + Math.Abs(score[i])));
        }
    }

    // 1-D two-component mixture as in the paper's experiments.
    private static readonly GaussianMixtureDenoiser Mixture1D =
        GaussianMixtureDenoiser.Isotropic([0.3, 0.7], [-2.0, 1.5], [0.5, Math.Sqrt(0.5)]);

    private static double Normal(double x, double mean, double variance) =>
        Math.Exp(-0.5 * (x - mean) * (x - mean) / variance) / Math.Sqrt(2 * Math.PI * variance);

    private static double DataDensity(double y) => 0.3 * Normal(y, -2.0, 0.25) + 0.7 * Normal(y, 1.5, 0.5);

    [Theory]
    [InlineData(1.0, 0.3)]
    [InlineData(0.8, 0.6)]
    [InlineData(0.3, 0.95)]
    [InlineData(2.0, 0.5)]
    public void OneDimensionalPosteriorMeanAndDensityMatchNumericalIntegration(double m, double sigma)
    {
        // E[y | x] = int y q(y) N(x; m y, sigma^2) dy / int q(y) N(x; m y, sigma^2) dy by the trapezoid rule on y.
        const double lo = -12, hi = 12;
        const int n = 120_000;
        double h = (hi - lo) / n;
        foreach (double x in new[] { -3.0, -0.7, 0.0, 0.9, 2.4 })
        {
            double z = 0, first = 0;
            for (int i = 0; i <= n; i++)
            {
                double y = lo + i * h, f = DataDensity(y) * Normal(x, m * y, sigma * sigma) * (i == 0 || i == n ? 0.5 : 1);
                z += f;
                first += y * f;
            }
            z *= h;
            first *= h;
            var x0 = new double[1];
            Mixture1D.Denoise([x], m, sigma, x0);
            Assert.Equal(first / z, x0[0], 1e-8);
            Assert.Equal(Math.Log(z), Mixture1D.LogDensity([x], m, sigma), 1e-8);
        }
    }

    [Theory]
    [InlineData(1.0, 0.05)]
    [InlineData(0.6, 0.8)]
    [InlineData(0.01, 1.0)]
    public void OneDimensionalDensityIntegratesToOne(double m, double sigma)
    {
        const double lo = -30, hi = 30;
        const int n = 60_000;
        double h = (hi - lo) / n;
        var grid = new double[n + 1];
        for (int i = 0; i <= n; i++) grid[i] = lo + i * h;
        var logDensity = new double[n + 1];
        Mixture1D.LogDensity(grid, m, sigma, logDensity);
        double integral = 0;
        for (int i = 0; i <= n; i++) integral += Math.Exp(logDensity[i]) * (i == 0 || i == n ? 0.5 : 1);
        Assert.Equal(1.0, integral * h, 1e-9);
    }

    [Fact]
    public void StaysFiniteAtExtremeNoiseLevelsAndFarOutRows()
    {
        var cosine = new CosineSchedule();
        var levels = new List<(double m, double sigma)> { (1e-6, 1e-8), (1.0, 1e-8), (1e-6, 1.0), (1.0, 1e-12) };
        foreach (double t in new[] { 1e-12, 1e-9, cosine.MaxTime, cosine.Tau * (1 - 1e-9) })
            levels.Add((cosine.M(t), cosine.Sigma(t)));
        double[] x = [1e3, -1e3, 0.0, 0.5, -1e3, 1e3, 1e3, 1e3, 1e3, 0.0, 0.0, 0.0];
        foreach (var mixture in new[] { FullMixture(), DiagonalMixture() })
            foreach (var (m, sigma) in levels)
            {
                var x0 = new double[x.Length];
                var score = new double[x.Length];
                var logDensity = new double[x.Length / 3];
                mixture.Denoise(x, m, sigma, x0);
                mixture.Score(x, m, sigma, score);
                mixture.LogDensity(x, m, sigma, logDensity);
                Assert.All(x0, v => Assert.True(double.IsFinite(v), $"x0 {v} at m={m}, sigma={sigma}"));
                Assert.All(score, v => Assert.True(double.IsFinite(v), $"score {v} at m={m}, sigma={sigma}"));
                Assert.All(logDensity, v => Assert.True(double.IsFinite(v), $"log density {v} at m={m}, sigma={sigma}"));
            }
    }

    [Fact]
    public void AtVanishingNoiseTheDenoiserIsTheIdentityAndNearOneComponentItsPosterior()
    {
        var mixture = FullMixture();
        double[] x = [0.3, -1.2, 2.0], x0 = new double[3];
        mixture.Denoise(x, 0.5, 0.0, x0);
        Assert.Equal([0.6, -2.4, 4.0], x0);
        mixture.Denoise(x, 1.0, 1e-7, x0);
        for (int j = 0; j < 3; j++) Assert.Equal(x[j], x0[j], 1e-10);
    }

    [Fact]
    public void AtVanishingSignalTheDenoiserReturnsThePriorMean()
    {
        var mixture = FullMixture();
        double[] x = [0.7, -1.3, 2.2, 1e3, -1e3, 0.0], x0 = new double[6];
        mixture.Denoise(x, 1e-9, 1.0, x0);
        for (int j = 0; j < 3; j++)
        {
            double prior = 0;
            for (int c = 0; c < 3; c++) prior += mixture.Weights[c] * mixture.Means[3 * c + j];
            Assert.Equal(prior, x0[j], 1e-6);
            Assert.Equal(prior, x0[3 + j], 1e-5);
        }
    }

    [Fact]
    public void ConcurrentCallsAgreeWithASerialCall()
    {
        var mixture = FullMixture();
        double[] x = StandardNormal.Sample(new Random(21), 3 * 200), serial = new double[x.Length];
        mixture.Denoise(x, 0.7, 0.5, serial);
        var results = new double[16][];
        Parallel.For(0, results.Length, i =>
        {
            results[i] = new double[x.Length];
            for (int repeat = 0; repeat < 5; repeat++) mixture.Denoise(x, 0.7, 0.5, results[i]);
        });
        Assert.All(results, r => Assert.Equal(serial, r));
    }

    [Fact]
    public void ExposesItsParameters()
    {
        var mixture = GaussianMixtureDenoiser.Diagonal([1.0, 3.0], [0, 1, 2, 3], [0.5, 0.6, 0.7, 0.8]);
        Assert.Equal(2, mixture.Dimension);
        Assert.Equal(2, mixture.ComponentCount);
        Assert.True(mixture.IsDiagonal);
        Assert.Equal([0.0, 1, 2, 3], mixture.Means.ToArray());
        Assert.Equal(0.8, mixture.GetCovariance(1)[1, 1]);
        Assert.Equal(0.0, mixture.GetCovariance(1)[0, 1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => mixture.GetCovariance(2));
        Assert.False(FullMixture().IsDiagonal);
    }

    [Fact]
    public void WeightsAreNormalised()
    {
        var scaled = GaussianMixtureDenoiser.Isotropic([2.0, 6.0], [-1.0, 1.0], [1.0, 0.5]);
        var unit = GaussianMixtureDenoiser.Isotropic([0.25, 0.75], [-1.0, 1.0], [1.0, 0.5]);
        Assert.Equal(0.25, scaled.Weights[0], 15);
        Assert.Equal(0.75, scaled.Weights[1], 15);
        Assert.Equal(unit.LogDensity([0.3], 0.9, 0.4), scaled.LogDensity([0.3], 0.9, 0.4), 14);
    }

    [Fact]
    public void SamplesHaveTheMixtureMeanAndCovarianceAndAreReproducible()
    {
        var mixture = FullMixture();
        const int n = 40_000, d = 3;
        var samples = new double[n * d];
        mixture.SampleData(new Random(5), samples);
        var again = new double[n * d];
        mixture.SampleData(new Random(5), again);
        Assert.Equal(samples, again);

        // Mixture moments: mean = sum w mu, covariance = sum w (C + mu mu^T) - mean mean^T.
        var mean = Vector<double>.Build.Dense(d);
        var second = Matrix<double>.Build.Dense(d, d);
        for (int c = 0; c < mixture.ComponentCount; c++)
        {
            var mu = Vector<double>.Build.DenseOfArray(mixture.Means.Slice(c * d, d).ToArray());
            mean += mu * mixture.Weights[c];
            second += (Matrix<double>.Build.DenseOfArray(mixture.GetCovariance(c)) + mu.OuterProduct(mu)) * mixture.Weights[c];
        }
        var covariance = second - mean.OuterProduct(mean);
        for (int j = 0; j < d; j++)
        {
            double sampleMean = 0;
            for (int r = 0; r < n; r++) sampleMean += samples[r * d + j];
            sampleMean /= n;
            Assert.InRange(sampleMean - mean[j], -5 * Math.Sqrt(covariance[j, j] / n), 5 * Math.Sqrt(covariance[j, j] / n));
            for (int k = 0; k < d; k++)
            {
                double c = 0;
                for (int r = 0; r < n; r++) c += (samples[r * d + j] - mean[j]) * (samples[r * d + k] - mean[k]);
                c /= n;
                Assert.InRange(c - covariance[j, k], -0.05 * Math.Sqrt(covariance[j, j] * covariance[k, k]), 0.05 * Math.Sqrt(covariance[j, j] * covariance[k, k]));
            }
        }
    }

    [Fact]
    public void BadInputIsRejectedNamingTheArgument()
    {
        double[,] identity = { { 1, 0 }, { 0, 1 } };
        double[,] indefinite = { { 1, 2 }, { 2, 1 } };
        double[,] singular = { { 1, 1 }, { 1, 1 } };
        double[,] asymmetric = { { 1, 0.5 }, { 0, 1 } };
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Isotropic([0.5, 0.0], [1, 2], [1, 1])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Isotropic([0.5, -1], [1, 2], [1, 1])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Isotropic([], [], [])).ParamName);
        Assert.Equal("means", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Isotropic([0.5, 0.5], [1, double.NaN], [1, 1])).ParamName);
        Assert.Equal("means", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Isotropic([0.5, 0.5], [1, 2, 3], [1, 1])).ParamName);
        Assert.Equal("standardDeviations", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Isotropic([0.5, 0.5], [1, 2], [1])).ParamName);
        Assert.Equal("variances", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Diagonal([0.5, 0.5], [1, 2], [1, 0])).ParamName);
        Assert.Equal("variances", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Diagonal([0.5, 0.5], [1, 2], [1, 1, 1])).ParamName);
        Assert.Equal("covariances", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Full([1.0], [0, 0], [indefinite])).ParamName);
        Assert.Equal("covariances", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Full([1.0], [0, 0], [singular])).ParamName);
        Assert.Equal("covariances", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Full([1.0], [0, 0], [asymmetric])).ParamName);
        Assert.Equal("covariances", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Full([1.0], [0, 0, 0], [identity])).ParamName);
        Assert.Equal("covariances", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Full([0.5, 0.5], [0, 0, 1, 1], [identity])).ParamName);
        Assert.Equal("covariances", Assert.Throws<ArgumentException>(() => GaussianMixtureDenoiser.Full([1.0], [0, 0], [new double[,] { { 1, 0 }, { 0, double.NaN } }])).ParamName);

        var mixture = FullMixture();
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => mixture.Denoise(new double[4], 1, 1, new double[4])).ParamName);
        Assert.Equal("x0", Assert.Throws<ArgumentException>(() => mixture.Denoise(new double[3], 1, 1, new double[6])).ParamName);
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => mixture.Denoise(new double[3], 0, 1, new double[3])).ParamName);
        Assert.Equal("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => mixture.Denoise(new double[3], 1, double.NaN, new double[3])).ParamName);
        Assert.Equal("row", Assert.Throws<ArgumentException>(() => mixture.LogDensity(new double[6], 1, 1)).ParamName);
        Assert.Equal("logDensity", Assert.Throws<ArgumentException>(() => mixture.LogDensity(new double[6], 1, 1, new double[3])).ParamName);
        Assert.Equal("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => mixture.LogDensity(new double[3], 0, 0)).ParamName);
        Assert.Equal("score", Assert.Throws<ArgumentException>(() => mixture.Score(new double[6], 1, 1, new double[3])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => mixture.SampleData(new Random(1), new double[4])).ParamName);
        Assert.Throws<ArgumentNullException>(() => mixture.SampleData(null!, new double[3]));
        var shared = new double[3];
        Assert.Equal("x0", Assert.Throws<ArgumentException>(() => mixture.Denoise(shared, 1, 1, shared)).ParamName);
    }
}
