using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Schedules;

public class DiscreteBetaScheduleTests
{
    private static readonly DiscreteBetaSchedule Linear = DiscreteBetaSchedule.DdpmLinear(50, 1e-3, 0.1);

    [Fact]
    public void IntegerTimesIndexTheChain()
    {
        double product = 1;
        Assert.Equal(1.0, Linear.AlphaBar(0));
        Assert.Equal(1.0, Linear.M(0));
        Assert.Equal(0.0, Linear.Sigma(0));
        for (int t = 1; t <= Linear.Steps; t++)
        {
            product *= Linear.Alpha(t);
            Assert.Equal(1 - Linear.Beta(t), Linear.Alpha(t));
            Assert.Equal(product, Linear.AlphaBar(t), 1e-14);
            Assert.Equal(Math.Sqrt(product), Linear.M(t), 1e-14);
            Assert.Equal(Math.Sqrt(1 - product), Linear.Sigma(t), 1e-13);
        }
        Assert.Equal(50.0, Linear.Tau);
        Assert.Equal(50.0, Linear.MaxTime);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(3.4)]
    [InlineData(17.0)]
    [InlineData(49.9)]
    public void IsVariancePreservingWithInterpolatedLogAlphaBar(double t)
    {
        double m = Linear.M(t), s = Linear.Sigma(t);
        Assert.Equal(1.0, m * m + s * s, 1e-14);
        // ln abar is linear on (k - 1, k]: the value at t is the log-linear blend of the neighbouring integers.
        int k = (int)Math.Ceiling(t);
        double frac = t - (k - 1);
        double expected = (1 - frac) * Math.Log(Linear.AlphaBar(k - 1)) + frac * Math.Log(Linear.AlphaBar(k));
        Assert.Equal(expected, 2 * Math.Log(m), 1e-12);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(3.4)]
    [InlineData(22.6)]
    [InlineData(49.5)]
    public void DerivativesMatchFiniteDifferencesAndTheBaseFormulas(double t)
    {
        const double h = 1e-5;
        Assert.Equal((Linear.M(t + h) - Linear.M(t - h)) / (2 * h), Linear.MDot(t), 1e-8);
        Assert.Equal((Linear.Sigma(t + h) - Linear.Sigma(t - h)) / (2 * h), Linear.SigmaDot(t), 1e-7);
        double m = Linear.M(t), s = Linear.Sigma(t);
        Assert.Equal(s * Linear.SigmaDot(t) - s * s * Linear.MDot(t) / m, Linear.Temperature(t), 1e-12);
        Assert.Equal(Linear.MDot(t) / m, Linear.DriftRate(t), 1e-14);
        Assert.True(Linear.Temperature(t) > 0);
        Assert.Equal(Math.Log(m / s), Linear.LogSnr(t), 1e-10);
        Assert.Equal(t, Linear.TimeAtLogSnr(Linear.LogSnr(t)), 1e-8);
    }

    [Fact]
    public void TemperatureAndDriftStayFiniteAtZero()
    {
        Assert.Equal(-0.5 * Math.Log(1 - 1e-3), Linear.Temperature(0), 1e-15);
        Assert.Equal(0.5 * Math.Log(1 - 1e-3), Linear.DriftRate(0), 1e-15);
        Assert.Equal(double.PositiveInfinity, Linear.SigmaDot(0));
        Assert.Equal(double.PositiveInfinity, Linear.LogSnr(0));
    }

    [Fact]
    public void LiEtAlFollowsTheirFormula()
    {
        const int T = 200;
        const double c0 = 2, c1 = 4;
        var s = DiscreteBetaSchedule.LiEtAl(T, c0, c1);
        double beta1 = Math.Pow(T, -c0), rate = c1 * Math.Log(T) / T;
        Assert.Equal(beta1, s.Beta(1), 1e-18);
        for (int t = 1; t < T; t++)
            Assert.Equal(rate * Math.Min(beta1 * Math.Pow(1 + rate, t), 1), s.Beta(t + 1), 1e-15);
        Assert.Equal(rate, s.Beta(T), 1e-15);   // capped at the end
    }

    [Fact]
    public void DdpmLinearIsLinear()
    {
        var s = DiscreteBetaSchedule.DdpmLinear();
        Assert.Equal(1000, s.Steps);
        Assert.Equal(1e-4, s.Beta(1), 1e-18);
        Assert.Equal(0.02, s.Beta(1000), 1e-16);
        Assert.Equal(1e-4 + 499 * (0.02 - 1e-4) / 999, s.Beta(500), 1e-16);
        Assert.InRange(s.AlphaBar(1000), 3e-5, 5e-5);   // the familiar DDPM value, about 4.0e-5
    }

    [Fact]
    public void RejectsInvalidInput()
    {
        Assert.Equal("betas", Assert.Throws<ArgumentException>(() => DiscreteBetaSchedule.FromBetas(Array.Empty<double>())).ParamName);
        Assert.Equal("betas", Assert.Throws<ArgumentException>(() => DiscreteBetaSchedule.FromBetas(new[] { 0.1, 1.0 })).ParamName);
        Assert.Equal("betas", Assert.Throws<ArgumentException>(() => DiscreteBetaSchedule.FromBetas(new[] { 0.1, 0.0 })).ParamName);
        Assert.Equal("betas", Assert.Throws<ArgumentException>(() => DiscreteBetaSchedule.FromBetas(new[] { double.NaN })).ParamName);
        Assert.Equal("steps", Assert.Throws<ArgumentOutOfRangeException>(() => DiscreteBetaSchedule.LiEtAl(1, 2, 4)).ParamName);
        Assert.Equal("c1", Assert.Throws<ArgumentOutOfRangeException>(() => DiscreteBetaSchedule.LiEtAl(10, 2, 10)).ParamName);
        Assert.Equal("c0", Assert.Throws<ArgumentOutOfRangeException>(() => DiscreteBetaSchedule.LiEtAl(10, -1, 1)).ParamName);
        Assert.Equal("betaEnd", Assert.Throws<ArgumentOutOfRangeException>(() => DiscreteBetaSchedule.DdpmLinear(10, 0.1, 1.0)).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => Linear.Beta(0)).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => Linear.AlphaBar(51)).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => Linear.M(-0.5)).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => Linear.Sigma(50.5)).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => Linear.M(double.NaN)).ParamName);
    }

    [Fact]
    public void FromAlphaBarsRoundTripsABetaConstructedSchedule()
    {
        foreach (var original in new[] { DiscreteBetaSchedule.DdpmLinear(), DiscreteBetaSchedule.LiEtAl(200, 2.0, 4.0), DiscreteBetaSchedule.FromBetas([0.3]) })
        {
            int steps = original.Steps;
            var alphaBars = new double[steps];
            for (int k = 1; k <= steps; k++) alphaBars[k - 1] = original.AlphaBar(k);
            var rebuilt = DiscreteBetaSchedule.FromAlphaBars(alphaBars);
            // With a leading abar_0 = 1 the same schedule comes back.
            var withZero = DiscreteBetaSchedule.FromAlphaBars([1.0, .. alphaBars]);
            Assert.Equal(steps, rebuilt.Steps);
            Assert.Equal(steps, withZero.Steps);
            for (int k = 1; k <= steps; k++)
            {
                Assert.Equal(original.Beta(k), rebuilt.Beta(k), 1e-9 * original.Beta(k));
                Assert.Equal(rebuilt.Beta(k), withZero.Beta(k));
                Assert.Equal(alphaBars[k - 1], rebuilt.AlphaBar(k), 1e-12 * alphaBars[k - 1]);
            }
            foreach (double u in new[] { 0.0, 0.013, 0.37, 0.5, 0.999, 1.0 })
            {
                double t = u * steps;
                Assert.Equal(original.M(t), rebuilt.M(t), 1e-12);
                Assert.Equal(original.Sigma(t), rebuilt.Sigma(t), 1e-10 * (original.Sigma(t) + 1e-300));
                Assert.Equal(original.Temperature(t), rebuilt.Temperature(t), 1e-9 * original.Temperature(t));
            }
        }
    }

    [Fact]
    public void FromAlphaBarsRejectsInvalidProducts()
    {
        Assert.Equal("alphaBars", Assert.Throws<ArgumentException>(() => DiscreteBetaSchedule.FromAlphaBars([])).ParamName);
        Assert.Equal("alphaBars", Assert.Throws<ArgumentException>(() => DiscreteBetaSchedule.FromAlphaBars([1.0])).ParamName);
        Assert.Equal("alphaBars", Assert.Throws<ArgumentException>(() => DiscreteBetaSchedule.FromAlphaBars([0.9, 0.9])).ParamName);
        Assert.Equal("alphaBars", Assert.Throws<ArgumentException>(() => DiscreteBetaSchedule.FromAlphaBars([0.5, 0.7])).ParamName);
        Assert.Equal("alphaBars", Assert.Throws<ArgumentException>(() => DiscreteBetaSchedule.FromAlphaBars([0.9, 0.0])).ParamName);
        Assert.Equal("alphaBars", Assert.Throws<ArgumentException>(() => DiscreteBetaSchedule.FromAlphaBars([1.2, 0.5])).ParamName);
        Assert.Equal("alphaBars", Assert.Throws<ArgumentException>(() => DiscreteBetaSchedule.FromAlphaBars([0.9, double.NaN])).ParamName);
    }
}
