using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Schedules;

public class VpLinearScheduleTests
{
    public static TheoryData<double, double, double> Parameters => new()
    {
        { 0.1, 20.0, 1.0 },
        { 0.1, 20.0, 3.0 },
        { 0.0, 5.0, 1.0 },
        { 1.0, 1.0, 2.0 },
    };

    [Theory]
    [MemberData(nameof(Parameters))]
    public void SatisfiesScheduleContract(double betaMin, double betaMax, double tau)
    {
        var s = new VpLinearSchedule(betaMin, betaMax, tau);
        ScheduleContract.All(s);
        ScheduleContract.VariancePreserving(s);
    }

    [Fact]
    public void DefaultBetaIsSongEtAlLinearRate()
    {
        var s = new VpLinearSchedule();
        foreach (double t in new[] { 0.0, 0.25, 0.5, 1.0 })
            Assert.Equal(0.1 + 19.9 * t, s.Beta(t), 13);
        Assert.Equal(0.05, s.Temperature(0), 14); // T = beta / 2, finite at t = 0
        Assert.Equal(double.PositiveInfinity, s.SigmaDot(0));
    }

    [Theory]
    [MemberData(nameof(Parameters))]
    public void MEqualsExpOfMinusHalfIntegratedBetaByQuadrature(double betaMin, double betaMax, double tau)
    {
        var s = new VpLinearSchedule(betaMin, betaMax, tau);
        // beta per unit time, written out independently of the class.
        double Rate(double t) => (betaMin + (betaMax - betaMin) * t / tau) / tau;
        foreach (double t in ScheduleContract.Times(s))
        {
            // Composite Simpson's rule on [0, t].
            const int n = 64;
            double h = t / n, sum = Rate(0) + Rate(t);
            for (int i = 1; i < n; i++) sum += (i % 2 == 1 ? 4 : 2) * Rate(i * h);
            double integral = sum * h / 3;
            Assert.Equal(Math.Exp(-0.5 * integral), s.M(t), 12);
            Assert.Equal(Math.Sqrt(1 - Math.Exp(-integral)), s.Sigma(t), 10);
        }
    }

    [Fact]
    public void ApproximatesDiscreteDdpmChain()
    {
        // DDPM: beta_i from 1e-4 to 0.02 over N = 1000 steps; abar_k = prod (1 - beta_i) ~ m(k / N)^2.
        var s = new VpLinearSchedule();
        const int n = 1000;
        double logAbar = 0;
        for (int k = 1; k <= 500; k++)
        {
            double beta = 1e-4 + (0.02 - 1e-4) * (k - 1) / (n - 1);
            logAbar += Math.Log(1 - beta);
            if (k % 100 == 0)
            {
                double m = s.M((double)k / n);
                Assert.True(Math.Abs(logAbar - 2 * Math.Log(m)) < 0.02 * Math.Max(1, -logAbar), $"k = {k}: {logAbar} vs {2 * Math.Log(m)}.");
            }
        }
    }

    [Fact]
    public void SmallTimesKeepRelativePrecision()
    {
        var s = new VpLinearSchedule();
        double t = 1e-9;
        // sigma^2 = 1 - exp(-B) ~ B for small B = 0.1 t + 9.95 t^2.
        double b = 0.1 * t + 9.95 * t * t;
        Assert.Equal(1.0, s.Sigma(t) / Math.Sqrt(b - b * b / 2), 12);
        Assert.True(Math.Abs(s.TimeAtLogSnr(s.LogSnr(t)) - t) < 1e-9 * t);
    }

    [Fact]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>("betaMin", () => new VpLinearSchedule(-0.1, 20));
        Assert.Throws<ArgumentOutOfRangeException>("betaMin", () => new VpLinearSchedule(double.NaN, 20));
        Assert.Throws<ArgumentOutOfRangeException>("betaMax", () => new VpLinearSchedule(0.1, 0.05));
        Assert.Throws<ArgumentOutOfRangeException>("betaMax", () => new VpLinearSchedule(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>("betaMax", () => new VpLinearSchedule(0.1, double.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>("tau", () => new VpLinearSchedule(0.1, 20, 0));
    }
}
