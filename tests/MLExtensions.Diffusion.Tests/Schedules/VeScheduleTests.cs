using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Schedules;

public class VeScheduleTests
{
    [Theory]
    [InlineData(80.0)]
    [InlineData(1.0)]
    public void SatisfiesScheduleContract(double sigmaMax) => ScheduleContract.All(new VeSchedule(sigmaMax));

    [Fact]
    public void IsEdmParametrisation()
    {
        var s = new VeSchedule();
        Assert.Equal(80.0, s.Tau);
        Assert.Equal(80.0, s.SigmaMax);
        Assert.Equal(80.0, s.MaxTime);
        foreach (double t in new[] { 0.002, 0.5, 3.0, 79.0 })
        {
            Assert.Equal(1.0, s.M(t));
            Assert.Equal(t, s.Sigma(t));
            Assert.Equal(t, s.Temperature(t), 12); // T = d/dt(sigma^2 / 2) when m = 1
            Assert.Equal(0.0, s.DriftRate(t));
            Assert.Equal(-Math.Log(t), s.LogSnr(t), 12);
        }
    }

    [Fact]
    public void TimeAtLogSnrClampsToMaxTime()
    {
        var s = new VeSchedule(10);
        Assert.Equal(10.0, s.TimeAtLogSnr(-Math.Log(1000)));
        Assert.Equal(0.25, s.TimeAtLogSnr(-Math.Log(0.25)), 14);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-3.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void RejectsBadSigmaMax(double sigmaMax) =>
        Assert.Throws<ArgumentOutOfRangeException>("sigmaMax", () => new VeSchedule(sigmaMax));
}
