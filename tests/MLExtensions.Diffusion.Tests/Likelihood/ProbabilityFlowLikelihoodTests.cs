using MathNet.Numerics.LinearAlgebra;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Likelihood;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;
using Xunit.Abstractions;

namespace MLExtensions.Diffusion.Tests.Likelihood;

public class ProbabilityFlowLikelihoodTests(ITestOutputHelper output)
{
    private static readonly NoiseSchedule Vp = new VpLinearSchedule();

    /// <summary>ln N(x; mu, diag(variance)) by the textbook formula.</summary>
    private static double LogNormalDiagonal(ReadOnlySpan<double> x, ReadOnlySpan<double> mu, ReadOnlySpan<double> variance)
    {
        double sum = 0;
        for (int j = 0; j < x.Length; j++)
            sum -= 0.5 * (Math.Log(2 * Math.PI * variance[j]) + (x[j] - mu[j]) * (x[j] - mu[j]) / variance[j]);
        return sum;
    }

    /// <summary>The smoothing variance s^2 = (sigma / m)^2 at t_min: the result is the log-density of the data law convolved with N(0, s^2 I).</summary>
    private static double SmoothingVariance(NoiseSchedule schedule, double tMin)
    {
        double s = schedule.Sigma(tMin) / schedule.M(tMin);
        return s * s;
    }

    private static double[] Rows(IMarginalDensity law, int rows, int seed)
    {
        var x = new double[rows * law.Dimension];
        law.SampleData(new Random(seed), x);
        // One row far in the tail as well (an anomaly).
        for (int j = 0; j < law.Dimension; j++) x[j] += 3;
        return x;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public void GaussianDataMatchesExactLogDensityWithinOnePercent(int d)
    {
        var mu = new double[d];
        var variance = new double[d];
        for (int j = 0; j < d; j++)
        {
            mu[j] = 0.5 * j - 0.7;
            variance[j] = 0.3 + 0.4 * j;
        }
        var law = GaussianDenoiser.Diagonal(mu, variance);
        var x = Rows(law, 6, seed: d);
        var logDensity = new double[6];
        var options = new LikelihoodOptions { Steps = 64, TMin = 1e-4 };
        var result = ProbabilityFlowLikelihood.Compute(law, Vp, x, logDensity, options);
        Assert.Equal(128, result.FunctionEvaluations);
        Assert.Equal(d, result.ProbesPerRow);
        double s2 = SmoothingVariance(Vp, 1e-4), worst = 0, worstUnsmoothed = 0;
        var smoothed = variance.Select(v => v + s2).ToArray();
        for (int r = 0; r < 6; r++)
        {
            var row = x.AsSpan(r * d, d);
            double exact = LogNormalDiagonal(row, mu, smoothed), raw = LogNormalDiagonal(row, mu, variance);
            worst = Math.Max(worst, Math.Abs(logDensity[r] - exact) / Math.Abs(exact));
            worstUnsmoothed = Math.Max(worstUnsmoothed, Math.Abs(logDensity[r] - raw) / Math.Abs(raw));
        }
        output.WriteLine($"d={d}: max relative error {worst:E2} vs smoothed law, {worstUnsmoothed:E2} vs data law (s^2 = {s2:E2})");
        Assert.True(worst <= 0.01, $"relative error {worst}");
        Assert.True(worstUnsmoothed <= 0.01, $"relative error vs unsmoothed {worstUnsmoothed}");
    }

    [Fact]
    public void FullCovarianceGaussianWithRk4OnCosineSchedule()
    {
        var b = Matrix<double>.Build.Dense(3, 3, (i, j) => Math.Sin(1 + i + 2 * j));
        var c = (b * b.Transpose() * 0.5 + Matrix<double>.Build.DenseIdentity(3) * 0.2);
        double[] mu = [0.3, -0.2, 0.1];
        var law = GaussianDenoiser.Full(mu, c.ToArray());
        var x = Rows(law, 5, seed: 3);
        var logDensity = new double[5];
        var schedule = new CosineSchedule();
        double tMin = 1e-3;
        ProbabilityFlowLikelihood.Compute(law, schedule, x, logDensity,
            new LikelihoodOptions { Steps = 48, TMin = tMin, Integrator = LikelihoodIntegrator.RungeKutta4, Prior = law });
        double s2 = SmoothingVariance(schedule, tMin), worst = 0;
        for (int r = 0; r < 5; r++)
        {
            // ln N(x; mu, C + s^2 I): the marginal of x = y + s eps, i.e. m = 1, sigma = s.
            double exact = law.LogDensity(x.AsSpan(r * 3, 3), 1, Math.Sqrt(s2));
            worst = Math.Max(worst, Math.Abs(logDensity[r] - exact) / Math.Abs(exact));
        }
        output.WriteLine($"full covariance, RK4: max relative error {worst:E2}");
        Assert.True(worst <= 1e-3, $"relative error {worst}");
    }

    [Theory]
    [InlineData(LikelihoodIntegrator.Euler, 1.6)]
    [InlineData(LikelihoodIntegrator.Heun, 3.2)]
    [InlineData(LikelihoodIntegrator.RungeKutta4, 10)]
    public void ErrorShrinksWithTheIntegratorsOrder(LikelihoodIntegrator integrator, double minimumRatio)
    {
        // Halving the step divides the error by about 2^order (1, 2, 4); the exact prior isolates the ODE error.
        var law = GaussianDenoiser.Diagonal([0.5, -1, 0.2], [0.4, 1.0, 2.0]);
        var x = Rows(law, 4, seed: 9);
        double tMin = 1e-3, s2 = SmoothingVariance(Vp, tMin);
        var smoothed = new[] { 0.4 + s2, 1.0 + s2, 2.0 + s2 };
        var errors = new List<double>();
        foreach (int steps in new[] { 16, 32, 64 })
        {
            var logDensity = new double[4];
            ProbabilityFlowLikelihood.Compute(law, Vp, x, logDensity, new LikelihoodOptions { Steps = steps, TMin = tMin, Integrator = integrator, Prior = law });
            double worst = 0;
            for (int r = 0; r < 4; r++)
                worst = Math.Max(worst, Math.Abs(logDensity[r] - LogNormalDiagonal(x.AsSpan(r * 3, 3), law.Mean, smoothed)));
            errors.Add(worst);
        }
        output.WriteLine($"{integrator}: max abs error at 16/32/64 steps = {string.Join(", ", errors.Select(e => e.ToString("E2")))}");
        Assert.True(errors[0] / errors[1] >= minimumRatio && errors[1] / errors[2] >= minimumRatio, string.Join(", ", errors));
    }

    private static GaussianMixtureDenoiser Mixture()
    {
        var b = Matrix<double>.Build.Dense(2, 2, (i, j) => 0.3 * Math.Cos(i + 3 * j));
        var c1 = (b * b.Transpose() + Matrix<double>.Build.DenseIdentity(2) * 0.05).ToArray();
        return GaussianMixtureDenoiser.Full([0.3, 0.7], [-1.0, 0.5, 1.0, -0.5], [c1, new double[,] { { 0.2, 0.05 }, { 0.05, 0.1 } }]);
    }

    [Fact]
    public void MixtureMatchesItsLogDensity()
    {
        var mixture = Mixture();
        var x = Rows(mixture, 8, seed: 5);
        var logDensity = new double[8];
        double tMin = 1e-4;
        ProbabilityFlowLikelihood.Compute(mixture, Vp, x, logDensity, new LikelihoodOptions { Steps = 96, TMin = tMin });
        double s = Math.Sqrt(SmoothingVariance(Vp, tMin)), worstSmoothed = 0, worst = 0;
        for (int r = 0; r < 8; r++)
        {
            var row = x.AsSpan(r * 2, 2);
            double smoothed = mixture.LogDensity(row, 1, s), data = mixture.LogDensity(row, 1, 0);
            worstSmoothed = Math.Max(worstSmoothed, Math.Abs(logDensity[r] - smoothed) / Math.Abs(smoothed));
            worst = Math.Max(worst, Math.Abs(logDensity[r] - data) / Math.Abs(data));
        }
        output.WriteLine($"mixture: max relative error {worstSmoothed:E2} vs smoothed law, {worst:E2} vs data law");
        Assert.True(worst <= 0.01, $"relative error {worst}");
        Assert.True(worstSmoothed <= 0.01, $"relative error vs smoothed law {worstSmoothed}");
    }

    [Fact]
    public void HutchinsonAgreesWithExactWithinStandardErrors()
    {
        var mixture = Mixture();
        var x = Rows(mixture, 6, seed: 6);
        var exact = new double[6];
        var estimate = new double[6];
        var error = new double[6];
        ProbabilityFlowLikelihood.Compute(mixture, Vp, x, exact, new LikelihoodOptions { Steps = 32 });
        var options = new LikelihoodOptions { Steps = 32, Divergence = DivergenceEstimator.Hutchinson, HutchinsonProbes = 16, Seed = 4 };
        var result = ProbabilityFlowLikelihood.Compute(mixture, Vp, x, estimate, error, options);
        Assert.Equal(16, result.ProbesPerRow);
        for (int r = 0; r < 6; r++)
        {
            output.WriteLine($"row {r}: exact {exact[r]:F4}, Hutchinson {estimate[r]:F4} +- {error[r]:F4}");
            Assert.True(error[r] > 0, "a full-covariance mixture has off-diagonal Jacobian entries, so the probes must disagree");
            Assert.True(Math.Abs(estimate[r] - exact[r]) <= 4 * error[r] + 1e-9, $"row {r}: |{estimate[r]} - {exact[r]}| > 4 x {error[r]}");
        }
        // Same seed, same bits.
        var again = new double[6];
        ProbabilityFlowLikelihood.Compute(mixture, Vp, x, again, options);
        Assert.Equal(estimate, again);
    }

    [Fact]
    public void HutchinsonIsExactForADiagonalJacobian()
    {
        // Rademacher probes: v^T J v = tr(J) exactly when J is diagonal.
        var law = GaussianDenoiser.Diagonal([0.5, -1, 0], [0.4, 1.0, 2.0]);
        var x = Rows(law, 4, seed: 1);
        var exact = new double[4];
        var estimate = new double[4];
        var error = new double[4];
        ProbabilityFlowLikelihood.Compute(law, Vp, x, exact, new LikelihoodOptions { Steps = 16 });
        ProbabilityFlowLikelihood.Compute(law, Vp, x, estimate, error,
            new LikelihoodOptions { Steps = 16, Divergence = DivergenceEstimator.Hutchinson, HutchinsonProbes = 3 });
        for (int r = 0; r < 4; r++)
        {
            Assert.Equal(exact[r], estimate[r], 1e-10);
            Assert.True(error[r] < 1e-10);
        }
    }

    [Fact]
    public void ChunkingDoesNotChangeTheResult()
    {
        var mixture = Mixture();
        var x = Rows(mixture, 7, seed: 2);
        var whole = new double[7];
        var chunked = new double[7];
        ProbabilityFlowLikelihood.Compute(mixture, Vp, x, whole, new LikelihoodOptions { Steps = 8 });
        ProbabilityFlowLikelihood.Compute(mixture, Vp, x, chunked, new LikelihoodOptions { Steps = 8, MaxBatchRows = 6 });
        for (int r = 0; r < 7; r++) Assert.Equal(whole[r], chunked[r], 1e-12);
    }

    [Fact]
    public void BitsPerDimensionIsNllOverDLn2() =>
        Assert.Equal(3.0 / (2 * Math.Log(2)), ProbabilityFlowLikelihood.BitsPerDimension(-3.0, 2), 1e-15);

    [Fact]
    public void BadInputIsRejectedByName()
    {
        var law = GaussianDenoiser.Diagonal([0.0, 0.0], [1.0, 1.0]);
        var x = new double[] { 0, 1, 2, 3 };
        var lp = new double[2];
        var nan = new double[] { 0, 1, double.NaN, 3 };
        var e = Assert.Throws<ArgumentException>(() => ProbabilityFlowLikelihood.Compute(law, Vp, nan, lp));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("Row 1", e.Message);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => ProbabilityFlowLikelihood.Compute(law, Vp, new double[3], lp)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => ProbabilityFlowLikelihood.Compute(law, Vp, [], lp)).ParamName);
        Assert.Equal("logDensity", Assert.Throws<ArgumentException>(() => ProbabilityFlowLikelihood.Compute(law, Vp, x, new double[3])).ParamName);
        Assert.Equal("standardError", Assert.Throws<ArgumentException>(() => ProbabilityFlowLikelihood.Compute(law, Vp, x, lp, new double[1], null)).ParamName);
        Assert.Equal("Steps", Assert.Throws<ArgumentOutOfRangeException>(() => ProbabilityFlowLikelihood.Compute(law, Vp, x, lp, new LikelihoodOptions { Steps = 0 })).ParamName);
        Assert.Equal("HutchinsonProbes", Assert.Throws<ArgumentOutOfRangeException>(() =>
            ProbabilityFlowLikelihood.Compute(law, Vp, x, lp, new LikelihoodOptions { HutchinsonProbes = 0, Divergence = DivergenceEstimator.Hutchinson })).ParamName);
        Assert.Equal("TMin", Assert.Throws<ArgumentOutOfRangeException>(() => ProbabilityFlowLikelihood.Compute(law, Vp, x, lp, new LikelihoodOptions { TMin = 0 })).ParamName);
        Assert.Equal("TMin", Assert.Throws<ArgumentOutOfRangeException>(() => ProbabilityFlowLikelihood.Compute(law, Vp, x, lp, new LikelihoodOptions { TMin = double.NaN })).ParamName);
        Assert.Equal("DataVariance", Assert.Throws<ArgumentOutOfRangeException>(() => ProbabilityFlowLikelihood.Compute(law, Vp, x, lp, new LikelihoodOptions { DataVariance = -1 })).ParamName);
        Assert.Equal("Prior", Assert.Throws<ArgumentException>(() =>
            ProbabilityFlowLikelihood.Compute(law, Vp, x, lp, new LikelihoodOptions { Prior = GaussianDenoiser.Isotropic([0.0], 1) })).ParamName);
        Assert.Equal("denoiser", Assert.Throws<ArgumentNullException>(() => ProbabilityFlowLikelihood.Compute(null!, Vp, x, lp)).ParamName);
    }
}
