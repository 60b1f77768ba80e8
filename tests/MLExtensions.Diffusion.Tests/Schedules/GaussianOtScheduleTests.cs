using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Schedules;

public class GaussianOtScheduleTests
{
    [Theory]
    [InlineData(0.3, 1.0)]
    [InlineData(1.0, 1.0)]
    [InlineData(2.5, 2.0)]
    [InlineData(0.0, 1.0)]
    public void SatisfiesScheduleContract(double s0, double tau) => ScheduleContract.All(new GaussianOtSchedule(s0, tau));

    [Theory]
    [InlineData(0.3)]
    [InlineData(1.0)]
    [InlineData(4.0)]
    public void MarginalIsTheW2GeodesicBetweenGaussians(double s0)
    {
        // The geodesic from N(mu0, s0^2) to N(0, 1): mean (1 - u) mu0, standard deviation (1 - u) s0 + u.
        var s = new GaussianOtSchedule(s0, tau: 2.0);
        foreach (double t in ScheduleContract.Times(s))
        {
            double u = t / 2.0, m = s.M(t), sg = s.Sigma(t);
            Assert.Equal(1 - u, m, 14);
            Assert.Equal((1 - u) * s0 + u, Math.Sqrt(m * m * s0 * s0 + sg * sg), 12);
        }
    }

    [Fact]
    public void TemperatureIsNonNegativeEvenWhereSigmaDecreases()
    {
        foreach (double s0 in new[] { 0.0, 0.01, 0.5, 1.0, 1.5, 3.0, 10.0 })
        {
            var s = new GaussianOtSchedule(s0);
            for (int i = 0; i <= 1000; i++)
            {
                double t = s.MaxTime * i / 1000;
                Assert.True(s.Temperature(t) >= 0, $"s0 = {s0}, t = {t}: T = {s.Temperature(t)}.");
            }
            Assert.Equal(s0, s.Temperature(0), 14);
        }
        // For s0 > 1 sigma itself peaks at u = s0 / (2 s0 - 1) and then falls.
        var falling = new GaussianOtSchedule(3.0);
        Assert.True(falling.SigmaDot(0.9) < 0);
    }

    [Fact]
    public void ZeroDataStdIsCondOt()
    {
        var a = new GaussianOtSchedule(0.0, 1.5);
        var b = new CondOtSchedule(1.5);
        foreach (double t in ScheduleContract.Times(b))
        {
            Assert.Equal(b.Sigma(t), a.Sigma(t), 14);
            Assert.Equal(b.SigmaDot(t), a.SigmaDot(t), 12);
            Assert.Equal(b.Temperature(t), a.Temperature(t), 9);
        }
    }

    [Fact]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>("dataStd", () => new GaussianOtSchedule(-1.0));
        Assert.Throws<ArgumentOutOfRangeException>("dataStd", () => new GaussianOtSchedule(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>("endCutoff", () => new GaussianOtSchedule(1.0, 1.0, 0.0));
        Assert.Throws<ArgumentOutOfRangeException>("tau", () => new GaussianOtSchedule(1.0, -2.0));
    }
}
