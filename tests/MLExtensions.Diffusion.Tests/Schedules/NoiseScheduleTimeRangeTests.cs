using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Schedules;

public class NoiseScheduleTimeRangeTests
{
    public static TheoryData<NoiseSchedule> Schedules() =>
    [
        new CosineSchedule(2.0), new CondOtSchedule(), new GaussianOtSchedule(0.7), new VpLinearSchedule(),
        new VpCosineSchedule(), new VeSchedule(), DiscreteBetaSchedule.DdpmLinear(100),
        new TabulatedSchedule([0.0, 0.5, 1.0], [1.0, 0.8, 0.5], [0.0, 0.6, 0.9]),
    ];

    [Theory]
    [MemberData(nameof(Schedules))]
    public void EveryMemberRejectsTimesOutsideTheDomain(NoiseSchedule schedule)
    {
        foreach (double t in new[] { double.NaN, -1e-9, schedule.Tau * (1 + 1e-9), double.PositiveInfinity })
        {
            foreach (Func<double, double> member in new Func<double, double>[]
                     { schedule.M, schedule.Sigma, schedule.MDot, schedule.SigmaDot, schedule.LogSnr, schedule.Temperature, schedule.DriftRate })
            {
                var e = Assert.Throws<ArgumentOutOfRangeException>(() => member(t));
                Assert.Equal("t", e.ParamName);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Schedules))]
    public void EndpointsOfTheDomainAreAccepted(NoiseSchedule schedule)
    {
        Assert.Equal(1.0, schedule.M(0), 12);
        Assert.Equal(0.0, schedule.Sigma(0), 12);
        Assert.True(double.IsFinite(schedule.Sigma(schedule.MaxTime)));
    }
}
