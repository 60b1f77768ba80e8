using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Schedules;

public class CosineScheduleTests
{
    [Fact]
    public void LogSnrInverseRoundTrips()
    {
        var s = new CosineSchedule(tau: 2.0);
        foreach (double t in new[] { 0.1, 0.5, 1.0, 1.7 })
            Assert.Equal(t, s.TimeAtLogSnr(s.LogSnr(t)), 12);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.5)]
    public void SatisfiesScheduleContract(double tau)
    {
        var s = new CosineSchedule(tau);
        ScheduleContract.All(s);
        ScheduleContract.VariancePreserving(s);
    }

    [Fact]
    public void TemperatureIsMinusDriftRateAndMatchesClosedForm()
    {
        var s = new CosineSchedule(tau: 1.5);
        foreach (double t in ScheduleContract.Times(s))
        {
            Assert.Equal(-s.DriftRate(t), s.Temperature(t), 10);
            // Base-class definition sigma sigmadot - sigma^2 mdot / m, evaluated independently.
            double m = s.M(t), sg = s.Sigma(t);
            double expected = sg * s.SigmaDot(t) - sg * sg * s.MDot(t) / m;
            Assert.True(Math.Abs(expected - s.Temperature(t)) <= 1e-10 * Math.Max(1, expected));
        }
    }

    [Fact]
    public void RejectsBadEndCutoff()
    {
        Assert.Throws<ArgumentOutOfRangeException>("endCutoff", () => new CosineSchedule(1.0, 0.0));
        Assert.Throws<ArgumentOutOfRangeException>("endCutoff", () => new CosineSchedule(1.0, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>("tau", () => new CosineSchedule(-1.0));
    }
}
