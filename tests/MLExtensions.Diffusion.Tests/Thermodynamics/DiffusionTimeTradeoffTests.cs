using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class DiffusionTimeTradeoffTests
{
    /// <summary>The OU process dX = -X dt + sqrt(2) dB on [0, tau]: a VP schedule with constant rate 2, so m = e^-t,
    /// sigma = sqrt(1 - e^-2t), T_t = 1.</summary>
    private static VpLinearSchedule OuSchedule(double tau) => new(2 * tau, 2 * tau, tau);

    private static readonly double[] Horizons = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0];

    // KL(N(e^-T mu, e^-2T v + 1 - e^-2T) || N(0, 1)) summed over coordinates, written out here.
    private static double OuKl(double[] mean, double[] variance, double horizon)
    {
        double kl = 0, e = Math.Exp(-horizon);
        for (int j = 0; j < mean.Length; j++)
        {
            double a = e * mean[j], s = e * e * variance[j] + 1 - e * e;
            kl += 0.5 * (s + a * a - 1 - Math.Log(s));
        }
        return kl;
    }

    private static ScoreFunction GaussianScore(double[] mean, double[] variance, double bias) => (x, t, score) =>
    {
        double m = Math.Exp(-t), s2 = 1 - m * m;
        int d = mean.Length;
        for (int i = 0; i < x.Length; i++)
        {
            int j = i % d;
            score[i] = -(x[i] - m * mean[j]) / (m * m * variance[j] + s2) + bias;
        }
    };

    [Fact]
    public void KlFallsMonotonicallyAndMatchesTheClosedForm()
    {
        double[] mean = [1.5, -0.5], variance = [0.3, 2.0];
        var schedule = OuSchedule(6);
        var r = DiffusionTimeTradeoff.EvaluateGaussian(schedule, mean, variance, GaussianScore(mean, variance, 0), Horizons,
            new Random(1), sampleCount: 64, quadratureOrder: 4);
        Assert.Equal(Horizons.Length, r.Points.Count);
        for (int i = 0; i < Horizons.Length; i++)
        {
            Assert.Equal(Horizons[i], r.Points[i].Horizon);
            Assert.Equal(OuKl(mean, variance, Horizons[i]), r.Points[i].PriorKl, 12);
            Assert.Equal(0, r.Points[i].PriorKlStandardError);
            if (i > 0) Assert.True(r.Points[i].PriorKl < r.Points[i - 1].PriorKl);
            Assert.Equal(OuKl(mean, variance, Horizons[i]), DiffusionTimeTradeoff.GaussianPriorKl(schedule, mean, variance, Horizons[i]), 12);
        }
    }

    [Fact]
    public void ExactScoreHasNoGapSoTheLargestHorizonIsBest()
    {
        double[] mean = [1.0], variance = [0.5];
        var r = DiffusionTimeTradeoff.EvaluateGaussian(OuSchedule(6), mean, variance, GaussianScore(mean, variance, 0), Horizons,
            new Random(2), sampleCount: 256, quadratureOrder: 8);
        foreach (var p in r.Points) Assert.True(p.ScoreGap < 1e-20, $"G = {p.ScoreGap}");
        Assert.Equal(Horizons[^1], r.BestHorizon);
    }

    [Fact]
    public void BiasedScoreGivesAFiniteBestHorizon()
    {
        double[] mean = [2.0], variance = [0.5];
        const double bias = 0.3;
        var r = DiffusionTimeTradeoff.EvaluateGaussian(OuSchedule(6), mean, variance, GaussianScore(mean, variance, bias), Horizons,
            new Random(3), sampleCount: 64, quadratureOrder: 8);
        // |s - grad ln P_t|^2 = bias^2 and T_t = 1, so G(T) = bias^2 T exactly.
        double bestTotal = double.PositiveInfinity, bestHorizon = double.NaN;
        foreach (var p in r.Points)
        {
            Assert.Equal(bias * bias * p.Horizon, p.ScoreGap, 10);
            Assert.Equal(p.PriorKl + p.ScoreGap, p.Total, 12);
            double total = OuKl(mean, variance, p.Horizon) + bias * bias * p.Horizon;
            if (total < bestTotal) { bestTotal = total; bestHorizon = p.Horizon; }
        }
        Assert.Equal(bestHorizon, r.BestHorizon);
        Assert.True(r.BestHorizon > Horizons[0] && r.BestHorizon < Horizons[^1], $"T* = {r.BestHorizon}");
    }

    [Fact]
    public void MixtureMonteCarloKlAndScoreAgreeWithIndependentClosedForms()
    {
        var schedule = OuSchedule(6);
        // Two identical components: the law is N(mean, v), so the Monte Carlo KL must match the Gaussian closed form.
        double[] mean = [0.8, -1.0], variance = [1.5, 0.4];
        var r = DiffusionTimeTradeoff.EvaluateMixture(schedule, [0.3, 0.7], [.. mean, .. mean], [.. variance, .. variance],
            GaussianScore(mean, variance, 0), [0.2, 1.0, 2.0], new Random(4), sampleCount: 20000, quadratureOrder: 4);
        foreach (var p in r.Points)
        {
            Assert.True(Math.Abs(p.PriorKl - OuKl(mean, variance, p.Horizon)) < 4 * p.PriorKlStandardError + 1e-12, $"{p}");
            Assert.True(p.ScoreGap < 1e-20);
        }

        // The symmetric mixture's own closed-form score (a separate implementation) gives a zero gap.
        var mixture = new SymmetricGaussianMixtureOu([1.5], 0.5);
        var r2 = DiffusionTimeTradeoff.EvaluateMixture(schedule, [0.5, 0.5], [1.5, -1.5], [0.25, 0.25],
            (x, t, score) => mixture.Score(x, t, score), [0.5, 2.0], new Random(5), sampleCount: 512, quadratureOrder: 6);
        foreach (var p in r2.Points) Assert.True(p.ScoreGap < 1e-18, $"G = {p.ScoreGap}");
        Assert.True(r2.Points[1].PriorKl < r2.Points[0].PriorKl);
    }

    [Fact]
    public void InvalidInputsAreRejectedWithTheArgumentName()
    {
        var schedule = OuSchedule(3);
        var random = new Random(1);
        ScoreFunction zero = (x, t, s) => s.Clear();
        Assert.Equal("horizons", Assert.Throws<ArgumentException>(() =>
            DiffusionTimeTradeoff.EvaluateGaussian(schedule, [0.0], [1.0], zero, [], random)).ParamName);
        Assert.Equal("horizons", Assert.Throws<ArgumentException>(() =>
            DiffusionTimeTradeoff.EvaluateGaussian(schedule, [0.0], [1.0], zero, [1.0, 1.0], random)).ParamName);
        Assert.Equal("horizons", Assert.Throws<ArgumentOutOfRangeException>(() =>
            DiffusionTimeTradeoff.EvaluateGaussian(schedule, [0.0], [1.0], zero, [0.0], random)).ParamName);
        Assert.Equal("horizons", Assert.Throws<ArgumentOutOfRangeException>(() =>
            DiffusionTimeTradeoff.EvaluateGaussian(schedule, [0.0], [1.0], zero, [4.0], random)).ParamName);
        Assert.Equal("horizons", Assert.Throws<ArgumentOutOfRangeException>(() =>
            DiffusionTimeTradeoff.EvaluateGaussian(schedule, [0.0], [1.0], zero, [double.NaN], random)).ParamName);
        Assert.Equal("variance", Assert.Throws<ArgumentException>(() =>
            DiffusionTimeTradeoff.EvaluateGaussian(schedule, [0.0], [0.0], zero, [1.0], random)).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() =>
            DiffusionTimeTradeoff.EvaluateGaussian(schedule, [double.NaN], [1.0], zero, [1.0], random)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() =>
            DiffusionTimeTradeoff.EvaluateMixture(schedule, [-1.0, 2.0], [0.0, 1.0], [1.0, 1.0], zero, [1.0], random)).ParamName);
        Assert.Equal("means", Assert.Throws<ArgumentException>(() =>
            DiffusionTimeTradeoff.EvaluateMixture(schedule, [1.0, 2.0], [0.0, 1.0, 2.0], [1.0, 1.0, 1.0], zero, [1.0], random)).ParamName);
        Assert.Equal("sampleCount", Assert.Throws<ArgumentOutOfRangeException>(() =>
            DiffusionTimeTradeoff.EvaluateGaussian(schedule, [0.0], [1.0], zero, [1.0], random, sampleCount: 1)).ParamName);
        Assert.Equal("model", Assert.Throws<ArgumentException>(() =>
            DiffusionTimeTradeoff.EvaluateGaussian(schedule, [0.0], [1.0], (x, t, s) => s.Fill(double.NaN), [1.0], random)).ParamName);
        Assert.Equal("horizon", Assert.Throws<ArgumentOutOfRangeException>(() =>
            DiffusionTimeTradeoff.GaussianPriorKl(schedule, [0.0], [1.0], -1)).ParamName);
    }
}
