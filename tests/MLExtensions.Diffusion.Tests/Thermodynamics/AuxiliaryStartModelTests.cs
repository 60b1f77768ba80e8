using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class AuxiliaryStartModelTests
{
    /// <summary>The OU process dX = -X dt + sqrt(2) dB on [0, tau]: a VP schedule with constant rate 2, so m = e^-t,
    /// sigma = sqrt(1 - e^-2t), T_t = 1.</summary>
    private static VpLinearSchedule OuSchedule(double tau) => new(2 * tau, 2 * tau, tau);

    // Rows of N(mean, C) with C = [[c00, c01], [c01, c11]] via a hand-written 2x2 Cholesky factor.
    private static double[] CorrelatedGaussianRows(int n, double[] mean, double c00, double c01, double c11, Random random)
    {
        double l00 = Math.Sqrt(c00), l10 = c01 / l00, l11 = Math.Sqrt(c11 - l10 * l10);
        var z = StandardNormal.Sample(random, 2 * n);
        var rows = new double[2 * n];
        for (int r = 0; r < n; r++)
        {
            rows[2 * r] = mean[0] + l00 * z[2 * r];
            rows[2 * r + 1] = mean[1] + l10 * z[2 * r] + l11 * z[2 * r + 1];
        }
        return rows;
    }

    [Fact]
    public void FittedGaussianRecoversTheClosedFormForwardMarginal()
    {
        const int n = 40000;
        const double c00 = 1.0, c01 = 0.6, c11 = 2.0, horizon = 0.5;
        double[] mean = [1.0, -2.0];
        var random = new Random(1);
        var rows = CorrelatedGaussianRows(n, mean, c00, c01, c11, random);
        var schedule = OuSchedule(3);
        var model = AuxiliaryStartModel.FitToForwardMarginal(rows, 2, schedule, horizon, 1, random);
        Assert.Equal(1, model.Components);
        Assert.Equal(1.0, model.Weights[0]);

        // P_T = N(m mean, m^2 C + sigma^2 I).
        double m = Math.Exp(-horizon), s2 = 1 - m * m;
        double[,] cT = { { m * m * c00 + s2, m * m * c01 }, { m * m * c01, m * m * c11 + s2 } };
        for (int j = 0; j < 2; j++)
            Assert.True(Math.Abs(model.Means[j] - m * mean[j]) < 4 * Math.Sqrt(cT[j, j] / n), $"mean {j}: {model.Means[j]}");
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
            {
                double se = Math.Sqrt((cT[a, a] * cT[b, b] + cT[a, b] * cT[a, b]) / n);
                Assert.True(Math.Abs(model.Covariances[a * 2 + b] - cT[a, b]) < 4 * se, $"cov {a}{b}: {model.Covariances[a * 2 + b]} vs {cT[a, b]}");
            }
    }

    [Fact]
    public void GaussianLogDensityAndSamplingMatchTheFittedParameters()
    {
        var random = new Random(2);
        var rows = CorrelatedGaussianRows(5000, [0.5, 0.5], 2.0, -0.8, 1.0, random);
        var model = AuxiliaryStartModel.FitGaussian(rows, 2);
        double s00 = model.Covariances[0], s01 = model.Covariances[1], s11 = model.Covariances[3];
        double det = s00 * s11 - s01 * s01;
        double[] x = [0.3, -1.4];
        double dx = x[0] - model.Means[0], dy = x[1] - model.Means[1];
        double quad = (s11 * dx * dx - 2 * s01 * dx * dy + s00 * dy * dy) / det;
        var lp = new double[1];
        model.LogDensity(x, lp);
        Assert.Equal(-Math.Log(2 * Math.PI) - 0.5 * Math.Log(det) - 0.5 * quad, lp[0], 10);

        const int draws = 40000;
        var sample = new double[2 * draws];
        model.Sample(new Random(3), sample);
        var refit = AuxiliaryStartModel.FitGaussian(sample, 2);
        for (int j = 0; j < 2; j++)
            Assert.True(Math.Abs(refit.Means[j] - model.Means[j]) < 4 * Math.Sqrt(model.Covariances[3 * j] / draws));
        Assert.True(Math.Abs(refit.Covariances[1] - s01) < 4 * Math.Sqrt((s00 * s11 + s01 * s01) / draws));
    }

    [Fact]
    public void MarginalDensityOfTheFitIsTheNoisedFittedGaussian()
    {
        // The fitted N(mu, C) as an IMarginalDensity: at noise level (m, sigma) it is N(m mu, m^2 C + sigma^2 I), written out for 2 x 2.
        var random = new Random(4);
        var model = AuxiliaryStartModel.FitGaussian(CorrelatedGaussianRows(3000, [1.0, -0.5], 1.5, 0.4, 0.8, random), 2);
        var density = model.ToMarginalDensity();
        Assert.Same(density, model.ToMarginalDensity());
        Assert.Equal(2, density.Dimension);
        const double m = 0.6, sigma = 0.7;
        double a = m * m * model.Covariances[0] + sigma * sigma, b = m * m * model.Covariances[1], c = m * m * model.Covariances[3] + sigma * sigma;
        double[] x = [0.2, 0.9];
        double dx = x[0] - m * model.Means[0], dy = x[1] - m * model.Means[1], det = a * c - b * b;
        double expected = -Math.Log(2 * Math.PI) - 0.5 * Math.Log(det) - 0.5 * (c * dx * dx - 2 * b * dx * dy + a * dy * dy) / det;
        Assert.Equal(expected, density.LogDensity(x, m, sigma), 10);
    }

    [Fact]
    public void EmRecoversAWellSeparatedOneDimensionalMixture()
    {
        var random = new Random(5);
        const int n = 6000;
        var x = StandardNormal.Sample(random, n);
        for (int i = 0; i < n; i++) x[i] = random.NextDouble() < 0.3 ? -4 + x[i] : 3 + 0.5 * x[i];
        var model = AuxiliaryStartModel.FitMixture(x, 1, 2, new Random(9));
        Assert.True(model.Converged);
        int lo = model.Means[0] < model.Means[1] ? 0 : 1, hi = 1 - lo;
        Assert.Equal(0.3, model.Weights[lo], 1.5e-2 * 3);
        Assert.Equal(-4.0, model.Means[lo], 0.1);
        Assert.Equal(3.0, model.Means[hi], 0.05);
        Assert.Equal(1.0, model.Covariances[lo], 0.1);
        Assert.Equal(0.25, model.Covariances[hi], 0.03);

        // The fitted density integrates to one, and the same seed gives the same fit.
        var grid = Enumerable.Range(0, 4001).Select(i => -12 + 0.005 * i).ToArray();
        var lp = new double[grid.Length];
        model.LogDensity(grid, lp);
        Assert.Equal(1.0, lp.Sum(Math.Exp) * 0.005, 5);
        var again = AuxiliaryStartModel.FitMixture(x, 1, 2, new Random(9));
        Assert.Equal(model.Means.ToArray(), again.Means.ToArray());
        Assert.True(model.MeanLogLikelihood > AuxiliaryStartModel.FitGaussian(x, 1).MeanLogLikelihood);
    }

    [Fact]
    public void MixtureFitOfForwardMarginalServesAsReverseStart()
    {
        // Data: two points +-3 in 1-D; P_T at T = 0.3 is a two-bump mixture the fitted model should reproduce.
        var data = new double[2000];
        for (int i = 0; i < data.Length; i++) data[i] = i % 2 == 0 ? 3 : -3;
        var model = AuxiliaryStartModel.FitToForwardMarginal(data, 1, OuSchedule(2), 0.3, 2, new Random(6), samplesPerRow: 2);
        double m = Math.Exp(-0.3), s2 = 1 - m * m;
        int lo = model.Means[0] < model.Means[1] ? 0 : 1;
        Assert.Equal(-3 * m, model.Means[lo], 0.05);
        Assert.Equal(3 * m, model.Means[1 - lo], 0.05);
        Assert.Equal(s2, model.Covariances[lo], 0.05);
        var start = new double[1000];
        model.Sample(new Random(7), start);
        Assert.All(start, v => Assert.True(double.IsFinite(v)));
        Assert.InRange(start.Count(v => v > 0), 400, 600);
    }

    [Fact]
    public void InvalidInputsAreRejectedWithTheArgumentName()
    {
        var random = new Random(1);
        Assert.Equal("samples", Assert.Throws<ArgumentException>(() => AuxiliaryStartModel.FitGaussian([1.0, double.NaN, 2.0], 1)).ParamName);
        Assert.Equal("samples", Assert.Throws<ArgumentException>(() => AuxiliaryStartModel.FitGaussian([], 1)).ParamName);
        Assert.Equal("samples", Assert.Throws<ArgumentException>(() => AuxiliaryStartModel.FitGaussian([1.0, 2.0, 3.0], 2)).ParamName);
        Assert.Equal("samples", Assert.Throws<ArgumentException>(() => AuxiliaryStartModel.FitGaussian([1.0, 1.0, 1.0, 1.0], 1)).ParamName);
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => AuxiliaryStartModel.FitGaussian([1.0, 2.0], 0)).ParamName);
        Assert.Equal("components", Assert.Throws<ArgumentOutOfRangeException>(() => AuxiliaryStartModel.FitMixture([1.0, 2.0, 3.0], 1, 0, random)).ParamName);
        Assert.Equal("tolerance", Assert.Throws<ArgumentOutOfRangeException>(() =>
            AuxiliaryStartModel.FitMixture([1.0, 2.0, 3.0], 1, 2, random, tolerance: double.NaN)).ParamName);
        Assert.Equal("sigma", Assert.Throws<ArgumentOutOfRangeException>(() =>
            AuxiliaryStartModel.SampleForwardMarginal([1.0], 1, 0.5, -1, 1, random)).ParamName);
        Assert.Equal("dataRows", Assert.Throws<ArgumentException>(() =>
            AuxiliaryStartModel.SampleForwardMarginal([double.PositiveInfinity], 1, 0.5, 1, 1, random)).ParamName);
        Assert.Equal("horizon", Assert.Throws<ArgumentOutOfRangeException>(() =>
            AuxiliaryStartModel.FitToForwardMarginal([1.0, 2.0], 1, OuSchedule(1), 0, 1, random)).ParamName);
        var model = AuxiliaryStartModel.FitGaussian([1.0, 2.0, 4.0], 1);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => model.Sample(random, [])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => model.LogDensity([1.0, 2.0], new double[1])).ParamName);
    }
}
