using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class FluctuationTheoremTests
{
    // KL(N(a, v) || N(0, 1)), written out independently of the library.
    private static double Kl(double a, double v) => 0.5 * (v + a * a - 1 - Math.Log(v));

    [Theory]
    [InlineData(1.5, 2.0, 1.0, 1)]
    [InlineData(-0.7, 0.8, 3.0, 2)]
    [InlineData(0.0, 4.0, 0.3, 3)]
    public void IftMeanIsWithinThreeStandardErrorsOfOne(double mean, double variance, double tau, int seed)
    {
        var r = FluctuationTheorem.EstimateGaussian([mean], [variance], tau, 40000, new Random(seed));
        Assert.False(r.InfiniteVarianceRisk);
        Assert.Equal(40000, r.SampleCount);
        Assert.True(r.StandardError > 0);
        Assert.True(Math.Abs(r.MeanExpNegativeEntropyProduction - 1) < 3 * r.StandardError,
            $"mean {r.MeanExpNegativeEntropyProduction}, SE {r.StandardError}");
    }

    [Fact]
    public void IftHoldsInTwoDimensionsWithEulerMaruyama()
    {
        var r = FluctuationTheorem.EstimateGaussian([1.0, -0.5], [0.9, 2.5], 1.5, 40000, new Random(7), steps: 300);
        // Euler-Maruyama adds an O(dt) = O(0.005) bias on top of the sampling error.
        Assert.True(Math.Abs(r.MeanExpNegativeEntropyProduction - 1) < 3 * r.StandardError + 0.02,
            $"mean {r.MeanExpNegativeEntropyProduction}, SE {r.StandardError}");
    }

    [Fact]
    public void MeanEntropyProductionEqualsKlDifference()
    {
        double[] mean = [1.2, -0.4];
        double[] variance = [2.0, 0.7];
        double tau = 0.8, e = Math.Exp(-tau), delta = 1 - Math.Exp(-2 * tau);
        double expected = 0;
        for (int j = 0; j < 2; j++)
            expected += Kl(mean[j], variance[j]) - Kl(e * mean[j], e * e * variance[j] + delta);
        Assert.Equal(expected, FluctuationTheorem.GaussianMeanEntropyProduction(mean, variance, tau), 12);

        var r = FluctuationTheorem.EstimateGaussian(mean, variance, tau, 40000, new Random(11));
        Assert.True(expected > 0);
        Assert.True(Math.Abs(r.MeanEntropyProduction - expected) < 4 * r.EntropyProductionStandardError,
            $"<s> {r.MeanEntropyProduction} vs S_tot {expected} (SE {r.EntropyProductionStandardError})");
    }

    [Fact]
    public void HeatEqualsStratonovichSumAlongAPath()
    {
        var random = new Random(3);
        double[] x = [0.7, -1.1, 2.0];
        double[] start = (double[])x.Clone();
        double dt = 0.01, stratonovich = 0;
        var z = new double[3];
        for (int k = 0; k < 100; k++)
        {
            StandardNormal.Fill(random, z);
            for (int j = 0; j < 3; j++)
            {
                double next = x[j] - x[j] * dt + Math.Sqrt(2 * dt) * z[j];
                // heat to the bath = integral F o dx with F = -x at the midpoint
                stratonovich += -0.5 * (x[j] + next) * (next - x[j]);
                x[j] = next;
            }
        }
        Assert.Equal(stratonovich, FluctuationTheorem.OuHeat(start, x), 12);
    }

    [Fact]
    public void SmallDataVarianceRaisesTheInfiniteVarianceFlag()
    {
        Assert.True(FluctuationTheorem.EstimateGaussian([0.0], [0.4], 2.0, 1000, new Random(1)).InfiniteVarianceRisk);
        Assert.True(FluctuationTheorem.EstimateGaussian([0.0, 0.0], [3.0, 0.5], 2.0, 1000, new Random(1)).InfiniteVarianceRisk);
        Assert.False(FluctuationTheorem.EstimateGaussian([0.0], [0.6], 2.0, 1000, new Random(1)).InfiniteVarianceRisk);
    }

    [Fact]
    public void GeneralDataApisSatisfyTheIftForTheSymmetricMixture()
    {
        var mixture = new SymmetricGaussianMixtureOu([1.5], 1.0);
        const double tau = 1.2;
        BatchLogDensity ln0 = (x, o) => mixture.LogDensity(x, 0, o);
        BatchLogDensity lnTau = (x, o) => mixture.LogDensity(x, tau, o);

        var r = FluctuationTheorem.Estimate((rng, dst) => mixture.Sample(rng, 0, dst), 1, ln0, lnTau, tau, 40000, new Random(5));
        Assert.True(Math.Abs(r.MeanExpNegativeEntropyProduction - 1) < 3 * r.StandardError, $"{r}");
        Assert.False(r.InfiniteVarianceRisk);

        var rows = new double[40000];
        mixture.Sample(new Random(6), 0, rows);
        var r2 = FluctuationTheorem.Estimate(rows, 1, ln0, lnTau, tau, new Random(8));
        Assert.Equal(40000, r2.SampleCount);
        Assert.True(Math.Abs(r2.MeanExpNegativeEntropyProduction - 1) < 3 * r2.StandardError, $"{r2}");
        Assert.True(r2.EffectiveSampleSize > 0.5 * r2.SampleCount);
    }

    [Fact]
    public void InvalidInputsAreRejectedWithTheArgumentName()
    {
        var random = new Random(1);
        Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => FluctuationTheorem.EstimateGaussian([0.0], [1.0], 0, 10, random)).ParamName);
        Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => FluctuationTheorem.EstimateGaussian([0.0], [1.0], -1, 10, random)).ParamName);
        Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => FluctuationTheorem.EstimateGaussian([0.0], [1.0], double.NaN, 10, random)).ParamName);
        Assert.Equal("variance", Assert.Throws<ArgumentException>(() => FluctuationTheorem.EstimateGaussian([0.0], [0.0], 1, 10, random)).ParamName);
        Assert.Equal("variance", Assert.Throws<ArgumentException>(() => FluctuationTheorem.EstimateGaussian([0.0], [1.0, 1.0], 1, 10, random)).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => FluctuationTheorem.EstimateGaussian([double.NaN], [1.0], 1, 10, random)).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => FluctuationTheorem.EstimateGaussian([], [], 1, 10, random)).ParamName);
        Assert.Equal("trajectoryCount", Assert.Throws<ArgumentOutOfRangeException>(() => FluctuationTheorem.EstimateGaussian([0.0], [1.0], 1, 1, random)).ParamName);
        Assert.Equal("steps", Assert.Throws<ArgumentOutOfRangeException>(() => FluctuationTheorem.EstimateGaussian([0.0], [1.0], 1, 10, random, -1)).ParamName);

        BatchLogDensity ok = (x, o) => o.Fill(0);
        BatchLogDensity bad = (x, o) => o.Fill(double.NaN);
        Assert.Equal("dataRows", Assert.Throws<ArgumentException>(() => FluctuationTheorem.Estimate([1.0, double.NaN], 1, ok, ok, 1, random)).ParamName);
        Assert.Equal("dataRows", Assert.Throws<ArgumentException>(() => FluctuationTheorem.Estimate([1.0], 1, ok, ok, 1, random)).ParamName);
        Assert.Equal("logDensity0", Assert.Throws<ArgumentException>(() => FluctuationTheorem.Estimate([1.0, 2.0], 1, bad, ok, 1, random)).ParamName);
        Assert.Equal("logDensityTau", Assert.Throws<ArgumentException>(() => FluctuationTheorem.Estimate([1.0, 2.0], 1, ok, bad, 1, random)).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() =>
            FluctuationTheorem.Estimate((rng, dst) => dst.Fill(double.PositiveInfinity), 1, ok, ok, 1, 10, random)).ParamName);
        Assert.Equal("xTau", Assert.Throws<ArgumentException>(() => FluctuationTheorem.OuHeat([1.0], [1.0, 2.0])).ParamName);
    }
}
