using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class GaussianPathMetricTests
{
    private static readonly double[] Mean = [0.5, -0.3, 0.2];
    private static readonly double[] Covariance = [1.5, 0.4, -0.2, 0.4, 0.8, 0.1, -0.2, 0.1, 0.3];

    private static double[,] ToMatrix(double[] rowMajor, int d)
    {
        var c = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) c[i, j] = rowMajor[i * d + j];
        return c;
    }

    [Fact]
    public void OneDimensionalEnergyIsTheSquaredSpeedOfTheMarginalStd()
    {
        // m = 1 - t, sigma = t on N(0, lambda): the marginal is N(0, S^2), S = sqrt(m^2 lambda + sigma^2), and the
        // kinetic energy of the probability flow is (dS/dt)^2 (SPEC section 8); dS/dt here by central differences.
        const double lambda = 0.7;
        var metric = new GaussianDataPathMetric([0.0], [lambda]);
        static double S(double t) => Math.Sqrt((1 - t) * (1 - t) * 0.7 + t * t);
        foreach (double t in new[] { 0.05, 0.3, 0.6, 0.95 })
        {
            const double h = 1e-5;
            double sDot = (S(t + h) - S(t - h)) / (2 * h);
            double energy = metric.Coefficients(Math.Atan2(t, 1 - t)).KineticEnergy(-1, 1);
            Assert.Equal(sDot * sDot, energy, 1e-8);
        }
    }

    [Fact]
    public void EnergyEqualsTheSquaredBuresSpeedForFullCovariance()
    {
        // For Gaussian data the probability flow is a gradient field, so its kinetic energy is v2^2, computed
        // independently by WassersteinSpeed.Gaussian from the Lyapunov equation of the marginal covariance.
        var metric = new GaussianDataPathMetric(Mean, Covariance);
        var data = GaussianDenoiser.Full(Mean, ToMatrix(Covariance, 3));
        foreach (NoiseSchedule schedule in new NoiseSchedule[] { new CosineSchedule(), new VpLinearSchedule(), new CondOtSchedule() })
            foreach (double t in new[] { 0.02, 0.3, 0.7, 0.99 })
            {
                double v2 = WassersteinSpeed.Gaussian(schedule, data, t);
                double energy = metric.Coefficients(Math.Atan2(schedule.Sigma(t), schedule.M(t))).KineticEnergy(schedule.MDot(t), schedule.SigmaDot(t));
                Assert.Equal(v2 * v2, energy, 1e-9 * Math.Max(1, v2 * v2));
            }
    }

    [Fact]
    public void EndValuesAreTheDataAndNoiseLimits()
    {
        var metric = new GaussianDataPathMetric(Mean, Covariance);
        double trace = Covariance[0] + Covariance[4] + Covariance[8], meanSq = 0.25 + 0.09 + 0.04;
        var start = metric.Coefficients(0);
        Assert.Equal(meanSq + trace, start.A, 1e-12); // E|y|^2
        Assert.Equal(0, start.B, 1e-15);
        Assert.Equal(0, start.C, 1e-15);
        var end = metric.Coefficients(Math.PI / 2);
        Assert.Equal(meanSq, end.A, 1e-12); // D = mu at pure noise
        Assert.Equal(0, end.B, 1e-12);
        Assert.Equal(3, end.C, 1e-12); // epshat = eps
    }

    [Fact]
    public void SquaredDistanceToNoiseIsTheBuresDistance()
    {
        var metric = new GaussianDataPathMetric(Mean, Covariance);
        double w2 = GaussianWasserstein.W2Squared(Mean, Covariance, new double[3], [1, 0, 0, 0, 1, 0, 0, 0, 1], 3);
        Assert.Equal(w2, metric.SquaredDistanceToNoise, 1e-10);
    }

    [Fact]
    public void FromDataUsesTheSampleMeanAndUnbiasedCovariance()
    {
        double[] rows = [1, 2, 3, 1, 0, -1, 2, 2, 0.5, -1, 0.5, 0, 0.3, 1, 2];
        const int n = 5, d = 3;
        var mean = new double[d];
        for (int r = 0; r < n; r++)
            for (int j = 0; j < d; j++) mean[j] += rows[r * d + j] / n;
        var cov = new double[d * d];
        for (int r = 0; r < n; r++)
            for (int a = 0; a < d; a++)
                for (int b = 0; b < d; b++) cov[a * d + b] += (rows[r * d + a] - mean[a]) * (rows[r * d + b] - mean[b]) / (n - 1);
        var expected = new GaussianDataPathMetric(mean, cov);
        var actual = GaussianDataPathMetric.FromData(rows, d);
        foreach (double phi in new[] { 0.1, 0.8, 1.4 })
        {
            var e = expected.Coefficients(phi);
            var a = actual.Coefficients(phi);
            Assert.Equal(e.A, a.A, 1e-12);
            Assert.Equal(e.B, a.B, 1e-12);
            Assert.Equal(e.C, a.C, 1e-12);
        }
    }

    [Fact]
    public void DenoiserMetricWithExactDenoiserAgreesWithClosedFormWithinMonteCarloError()
    {
        var data = GaussianDenoiser.Full(Mean, ToMatrix(Covariance, 3));
        const int n = 20000;
        var rows = new double[n * 3];
        data.SampleData(new Random(11), rows);
        var metric = new DenoiserPathMetric(data, rows, samples: n, seed: 5, batchRows: 3000);
        var exact = new GaussianDataPathMetric(Mean, Covariance);
        foreach (double phi in new[] { 0.15, 0.7, 1.2, 1.5 })
        {
            var estimate = metric.Coefficients(phi, out var se);
            var truth = exact.Coefficients(phi);
            Assert.True(se.A > 0 && se.C > 0);
            Assert.InRange(estimate.A, truth.A - 4 * se.A, truth.A + 4 * se.A);
            Assert.InRange(estimate.B, truth.B - 4 * se.B, truth.B + 4 * se.B);
            Assert.InRange(estimate.C, truth.C - 4 * se.C, truth.C + 4 * se.C);
            Assert.Equal(estimate, metric.Coefficients(phi)); // deterministic: fixed pairs
        }
    }

    [Fact]
    public void DenoiserMetricIsDeterministicForASeedAndBatchSizeDoesNotMatter()
    {
        var data = GaussianDenoiser.Isotropic([0.3, -0.2], 0.8);
        var rows = new double[500 * 2];
        data.SampleData(new Random(3), rows);
        var a = new DenoiserPathMetric(data, rows, samples: 700, seed: 9, batchRows: 64).Coefficients(0.9);
        var b = new DenoiserPathMetric(data, rows, samples: 700, seed: 9, batchRows: 700).Coefficients(0.9);
        var c = new DenoiserPathMetric(data, rows, samples: 700, seed: 10).Coefficients(0.9);
        Assert.Equal(a.A, b.A, 1e-12);
        Assert.Equal(a.B, b.B, 1e-12);
        Assert.Equal(a.C, b.C, 1e-12);
        Assert.NotEqual(a.A, c.A);
    }

    [Fact]
    public void InvalidInputIsRejected()
    {
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => new GaussianDataPathMetric([], [])).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => new GaussianDataPathMetric([double.NaN], [1.0])).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => new GaussianDataPathMetric([0.0, 0], [1.0, 0.5, 0.2, 1])).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => new GaussianDataPathMetric([0.0, 0], [1.0, 0, 0, -1])).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => new GaussianDataPathMetric([0.0, 0], [1.0, 0, 0])).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentException>(() => GaussianDataPathMetric.FromData([1.0, 2, 3], 2)).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentException>(() => GaussianDataPathMetric.FromData([1.0, 2], 2)).ParamName);
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => GaussianDataPathMetric.FromData([1.0, 2], 0)).ParamName);
        var metric = new GaussianDataPathMetric([0.0], [1.0]);
        Assert.Equal("phi", Assert.Throws<ArgumentOutOfRangeException>(() => metric.Coefficients(double.NaN)).ParamName);
        Assert.Equal("phi", Assert.Throws<ArgumentOutOfRangeException>(() => metric.Coefficients(-0.1)).ParamName);
        Assert.Equal("phi", Assert.Throws<ArgumentOutOfRangeException>(() => metric.Coefficients(1.6)).ParamName);

        var denoiser = GaussianDenoiser.Isotropic([0.0, 0.0], 1);
        Assert.Throws<ArgumentNullException>(() => new DenoiserPathMetric(null!, [1.0, 2]));
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => new DenoiserPathMetric(denoiser, [1.0, 2, 3])).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => new DenoiserPathMetric(denoiser, [1.0, double.PositiveInfinity])).ParamName);
        Assert.Equal("samples", Assert.Throws<ArgumentOutOfRangeException>(() => new DenoiserPathMetric(denoiser, [1.0, 2], samples: 1)).ParamName);
        Assert.Equal("batchRows", Assert.Throws<ArgumentOutOfRangeException>(() => new DenoiserPathMetric(denoiser, [1.0, 2], batchRows: 0)).ParamName);
        var mc = new DenoiserPathMetric(denoiser, [1.0, 2, 0, 1], samples: 4);
        Assert.Equal("phi", Assert.Throws<ArgumentOutOfRangeException>(() => mc.Coefficients(0)).ParamName);
        Assert.Equal("phi", Assert.Throws<ArgumentOutOfRangeException>(() => mc.Coefficients(Math.PI / 2)).ParamName);
    }
}
