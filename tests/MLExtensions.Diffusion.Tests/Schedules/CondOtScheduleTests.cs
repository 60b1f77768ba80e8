using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Schedules;

public class CondOtScheduleTests
{
    [Theory]
    [InlineData(1.0, 1e-3)]
    [InlineData(3.0, 1e-2)]
    public void SatisfiesScheduleContract(double tau, double cutoff) => ScheduleContract.All(new CondOtSchedule(tau, cutoff));

    [Fact]
    public void MatchesRectifiedFlowPath()
    {
        var s = new CondOtSchedule(tau: 2.0, endCutoff: 1e-3);
        Assert.Equal(2.0 * (1 - 1e-3), s.MaxTime, 14);
        foreach (double t in ScheduleContract.Times(s))
        {
            double u = t / 2.0;
            Assert.Equal(1 - u, s.M(t), 14);
            Assert.Equal(u, s.Sigma(t), 14);
            Assert.Equal(u / (2.0 * (1 - u)), s.Temperature(t), 10);
        }
    }

    [Fact]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>("endCutoff", () => new CondOtSchedule(1.0, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>("tau", () => new CondOtSchedule(double.NaN));
    }
}
