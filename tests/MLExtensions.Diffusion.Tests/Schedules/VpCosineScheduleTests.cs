using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Schedules;

public class VpCosineScheduleTests
{
    [Theory]
    [InlineData(1.0, 0.008)]
    [InlineData(2.0, 0.008)]
    [InlineData(1.0, 0.0)]
    [InlineData(1.0, 0.1)]
    public void SatisfiesScheduleContract(double tau, double offset)
    {
        var s = new VpCosineSchedule(tau, offset);
        ScheduleContract.All(s);
        ScheduleContract.VariancePreserving(s);
    }

    [Fact]
    public void AlphaBarIsNicholDhariwalRatio()
    {
        const double sOff = 0.008, tau = 2.0;
        var s = new VpCosineSchedule(tau, sOff);
        static double F(double u) => Math.Pow(Math.Cos((u + sOff) / (1 + sOff) * Math.PI / 2), 2);
        foreach (double t in ScheduleContract.Times(s))
        {
            double abar = F(t / tau) / F(0);
            Assert.Equal(abar, s.AlphaBar(t), 13);
            Assert.Equal(Math.Sqrt(abar), s.M(t), 13);
            Assert.Equal(Math.Sqrt(1 - abar), s.Sigma(t), 12);
        }
    }

    [Fact]
    public void ZeroOffsetIsThePapersCosineSchedule()
    {
        var a = new VpCosineSchedule(1.5, 0.0);
        var b = new CosineSchedule(1.5);
        foreach (double t in ScheduleContract.Times(b))
        {
            Assert.Equal(b.M(t), a.M(t), 14);
            Assert.Equal(b.Sigma(t), a.Sigma(t), 14);
            Assert.Equal(b.MDot(t), a.MDot(t), 12);
            Assert.Equal(b.SigmaDot(t), a.SigmaDot(t), 10);
        }
    }

    [Fact]
    public void EndCutoffIsWhereOneReferenceStepWouldExceedTheBetaClip()
    {
        var s = new VpCosineSchedule();
        double tEnd = s.MaxTime, step = s.Tau / 1000;
        double beta = 1 - s.AlphaBar(tEnd) / s.AlphaBar(tEnd - step);
        Assert.Equal(0.999, beta, 9);
        // Near u = 1, abar ~ c (1 - u)^2, so (x / (x + 1/N))^2 = 0.001 gives x = (1/N) r / (1 - r), r = sqrt(0.001).
        double r = Math.Sqrt(0.001), x = 1e-3 * r / (1 - r);
        Assert.Equal(x, s.EndCutoff, 7);
        Assert.True(s.M(s.MaxTime) > 0);
    }

    [Fact]
    public void SmallTimesKeepRelativePrecision()
    {
        var s = new VpCosineSchedule();
        double t = 1e-9;
        // sigma^2 = 1 - abar ~ -abar'(0) t = 2 theta' tan(theta0) t for small t.
        double theta0 = 0.5 * Math.PI * 0.008 / 1.008, rate = 0.5 * Math.PI / 1.008;
        Assert.Equal(1.0, s.Sigma(t) / Math.Sqrt(2 * rate * Math.Tan(theta0) * t), 7);
        Assert.True(Math.Abs(s.TimeAtLogSnr(s.LogSnr(t)) - t) < 1e-9 * t);
    }

    [Fact]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>("offset", () => new VpCosineSchedule(1.0, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>("offset", () => new VpCosineSchedule(1.0, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>("betaMax", () => new VpCosineSchedule(1.0, 0.008, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>("referenceSteps", () => new VpCosineSchedule(1.0, 0.008, 0.999, 1));
        Assert.Throws<ArgumentOutOfRangeException>("tau", () => new VpCosineSchedule(0.0));
    }
}
