using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Schedules;

public class TabulatedScheduleTests
{
    private static TabulatedSchedule Sample(NoiseSchedule s, int n, double tEnd)
    {
        var t = new double[n];
        var m = new double[n];
        var sg = new double[n];
        for (int i = 0; i < n; i++)
        {
            t[i] = tEnd * i / (n - 1);
            m[i] = s.M(t[i]);
            sg[i] = s.Sigma(t[i]);
        }
        t[n - 1] = tEnd;
        m[0] = 1;
        sg[0] = 0;
        return new TabulatedSchedule(t, m, sg);
    }

    [Fact]
    public void ReproducesCosineScheduleAndItsDerivatives()
    {
        var c = new CosineSchedule(tau: 2.0);
        var tab = Sample(c, 201, c.MaxTime);
        Assert.Equal(c.MaxTime, tab.Tau);
        Assert.Equal(c.MaxTime, tab.MaxTime);
        for (int i = 0; i <= 997; i++)
        {
            double t = c.MaxTime * (i + 0.37) / 1000; // off the knots
            if (t > tab.Tau) break;
            Assert.True(Math.Abs(c.M(t) - tab.M(t)) < 1e-7, $"m({t})");
            Assert.True(Math.Abs(c.Sigma(t) - tab.Sigma(t)) < 1e-7, $"sigma({t})");
            Assert.True(Math.Abs(c.MDot(t) - tab.MDot(t)) < 2e-5, $"mdot({t}): {c.MDot(t)} vs {tab.MDot(t)}");
            Assert.True(Math.Abs(c.SigmaDot(t) - tab.SigmaDot(t)) < 2e-5, $"sigmadot({t}): {c.SigmaDot(t)} vs {tab.SigmaDot(t)}");
        }
    }

    [Fact]
    public void SatisfiesScheduleContract()
    {
        ScheduleContract.Endpoints(Sample(new CosineSchedule(), 41, new CosineSchedule().MaxTime));
        var tab = Sample(new VpLinearSchedule(), 101, 1.0);
        ScheduleContract.Derivatives(tab, 1e-5);
        ScheduleContract.Temperature(tab, 1e-5);
        ScheduleContract.LogSnrRoundTrip(tab);
    }

    [Fact]
    public void AcceptsFinalZeroSignalWithCutoff()
    {
        var c = new CondOtSchedule();
        double[] t = { 0, 0.25, 0.5, 0.75, 1.0 };
        double[] m = t.Select(x => 1 - x).ToArray();
        double[] sg = t.ToArray();
        var tab = new TabulatedSchedule(t, m, sg, endCutoff: 1e-3);
        Assert.Equal(1.0, tab.Tau);
        Assert.Equal(0.999, tab.MaxTime, 14);
        Assert.Equal(1e-3, tab.EndCutoff);
        // Linear data are reproduced exactly by the Hermite interpolant.
        foreach (double x in new[] { 0.1, 0.33, 0.6, 0.99 })
        {
            Assert.Equal(c.M(x), tab.M(x), 14);
            Assert.Equal(c.Sigma(x), tab.Sigma(x), 14);
            Assert.Equal(c.Temperature(x), tab.Temperature(x), 10);
        }
        ScheduleContract.LogSnrRoundTrip(tab);
    }

    [Fact]
    public void NonMonotoneSigmaWithMonotoneNoiseLevelKeepsTemperatureNonNegative()
    {
        // Gaussian OT with s0 = 3: sigma rises then falls; sigma/m rises throughout.
        var g = new GaussianOtSchedule(3.0);
        var tab = Sample(g, 61, 0.95);
        for (int i = 0; i <= 2000; i++)
        {
            double t = 0.95 * i / 2000;
            Assert.True(tab.Temperature(t) >= -1e-12, $"T({t}) = {tab.Temperature(t)}");
        }
    }

    [Fact]
    public void TwoKnotsGiveStraightLines()
    {
        var tab = new TabulatedSchedule(new[] { 0.0, 2.0 }, new[] { 1.0, 0.5 }, new[] { 0.0, 1.0 });
        Assert.Equal(0.75, tab.M(1.0), 14);
        Assert.Equal(0.5, tab.Sigma(1.0), 14);
        Assert.Equal(-0.25, tab.MDot(0.3), 14);
        Assert.Equal(0.5, tab.SigmaDot(1.7), 14);
    }

    [Fact]
    public void RejectsTimesOutsideTable()
    {
        var tab = new TabulatedSchedule(new[] { 0.0, 1.0 }, new[] { 1.0, 0.5 }, new[] { 0.0, 1.0 });
        Assert.Throws<ArgumentOutOfRangeException>("t", () => tab.M(1.5));
        Assert.Throws<ArgumentOutOfRangeException>("t", () => tab.Sigma(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>("t", () => tab.MDot(double.NaN));
    }

    public static TheoryData<double[], double[], double[], string, string> InvalidTables => new()
    {
        { new[] { 0.0, 1.0 }, new[] { 1.0, 0.5, 0.2 }, new[] { 0.0, 1.0 }, "m", "" },
        { new[] { 0.0, 1.0 }, new[] { 1.0, 0.5 }, new[] { 0.0 }, "sigma", "" },
        { new[] { 0.0 }, new[] { 1.0 }, new[] { 0.0 }, "times", "" },
        { new[] { 0.0, double.NaN, 1.0 }, new[] { 1.0, 0.7, 0.5 }, new[] { 0.0, 0.5, 1.0 }, "times", "[1]" },
        { new[] { 0.0, 0.5, 1.0 }, new[] { 1.0, double.PositiveInfinity, 0.5 }, new[] { 0.0, 0.5, 1.0 }, "m", "[1]" },
        { new[] { 0.0, 0.5, 1.0 }, new[] { 1.0, 0.7, 0.5 }, new[] { 0.0, 0.5, double.NaN }, "sigma", "[2]" },
        { new[] { 0.0, 0.5, 0.5, 1.0 }, new[] { 1.0, 0.8, 0.7, 0.5 }, new[] { 0.0, 0.4, 0.5, 1.0 }, "times", "[2]" },
        { new[] { 0.0, 0.6, 0.4, 1.0 }, new[] { 1.0, 0.8, 0.7, 0.5 }, new[] { 0.0, 0.4, 0.5, 1.0 }, "times", "[2]" },
        { new[] { 0.1, 0.5, 1.0 }, new[] { 1.0, 0.7, 0.5 }, new[] { 0.0, 0.5, 1.0 }, "times", "[0]" },
        { new[] { 0.0, 0.5, 1.0 }, new[] { 0.9, 0.7, 0.5 }, new[] { 0.0, 0.5, 1.0 }, "m", "m[0]" },
        { new[] { 0.0, 0.5, 1.0 }, new[] { 1.0, 0.7, 0.5 }, new[] { 0.1, 0.5, 1.0 }, "sigma", "sigma[0]" },
        { new[] { 0.0, 0.5, 1.0 }, new[] { 1.0, 0.0, 0.0 }, new[] { 0.0, 0.5, 1.0 }, "m", "m[1]" },
        { new[] { 0.0, 0.5, 1.0 }, new[] { 1.0, -0.2, 0.5 }, new[] { 0.0, 0.5, 1.0 }, "m", "m[1]" },
        { new[] { 0.0, 0.5, 1.0 }, new[] { 1.0, 0.7, -0.5 }, new[] { 0.0, 0.5, 1.0 }, "m", "m[2]" },
        { new[] { 0.0, 0.5, 1.0 }, new[] { 1.0, 0.7, 0.5 }, new[] { 0.0, -0.5, 1.0 }, "sigma", "sigma[1]" },
        { new[] { 0.0, 0.5, 1.0 }, new[] { 1.0, 0.7, 0.0 }, new[] { 0.0, 0.5, 0.0 }, "sigma", "sigma[2]" },
        // sigma/m decreases from index 2 to index 3 (0.5/0.5 = 1 > 0.6/0.7).
        { new[] { 0.0, 0.3, 0.6, 1.0 }, new[] { 1.0, 0.8, 0.5, 0.7 }, new[] { 0.0, 0.3, 0.5, 0.6 }, "sigma", "index 2" },
    };

    [Theory]
    [MemberData(nameof(InvalidTables))]
    public void RejectsInvalidTables(double[] t, double[] m, double[] sigma, string param, string fragment)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => new TabulatedSchedule(t, m, sigma));
        Assert.Equal(param, ex.ParamName);
        Assert.Contains(fragment, ex.Message);
    }

    [Fact]
    public void RejectsTableWhoseInterpolantHasDecreasingNoiseLevel()
    {
        // Knot noise levels 0, 1, 1.0001, 1.1 are non-decreasing, but m dips to 0.5 at knot 1 and rises again. By hand,
        // the Hermite cubics (m slopes 0 at knots 1 and 2, sigma slopes 0.50005 and 0.2997) give at the midpoint of
        // [1, 2]: m = 0.75, mdot = 0.75, sigma = 0.7751, sigmadot = 0.5502, so m sigmadot - sigma mdot < 0 there.
        double[] t = { 0, 1, 2, 3 };
        double[] m = { 1, 0.5, 1, 1 };
        double[] sg = { 0, 0.5, 1.0001, 1.1 };
        var ex = Assert.Throws<ArgumentException>("sigma", () => new TabulatedSchedule(t, m, sg));
        Assert.Contains("knots 1 and 2", ex.Message);
    }

    [Fact]
    public void RejectsCutoffThatDoesNotClearTheLastInterval()
    {
        double[] t = { 0, 0.5, 0.9999, 1.0 };
        double[] m = { 1, 0.5, 1e-4, 0 };
        double[] sg = { 0, 0.5, 0.9999, 1 };
        Assert.Throws<ArgumentOutOfRangeException>("endCutoff", () => new TabulatedSchedule(t, m, sg, endCutoff: 1e-3));
        Assert.Throws<ArgumentOutOfRangeException>("endCutoff", () => new TabulatedSchedule(t, m, sg, endCutoff: 0.0));
        Assert.Equal(1 - 1e-5, new TabulatedSchedule(t, m, sg, endCutoff: 1e-5).MaxTime, 14);
    }
}
