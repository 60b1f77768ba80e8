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
}
