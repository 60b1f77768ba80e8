using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class ScheduleRetimingTests
{
    private static readonly GaussianDenoiser Data = GaussianDenoiser.Isotropic([2.0], 0.5);

    [Theory]
    [InlineData("cosine", 1.0)]
    [InlineData("cond-ot", 0.5)]
    [InlineData("vp-linear", 2.0)]
    public void ConstantW2SpeedRetimingAttainsLSquaredOverTau(string name, double tau)
    {
        NoiseSchedule schedule = name switch
        {
            "cosine" => new CosineSchedule(),
            "cond-ot" => new CondOtSchedule(),
            _ => new VpLinearSchedule(),
        };
        var result = ScheduleRetiming.ConstantSpeed(schedule, t => WassersteinSpeed.Gaussian(schedule, Data, t), tau);
        var retimed = result.Schedule;
        double l = result.PathLength;
        Assert.Equal(l * l / tau, result.CostAfter, 1e-12);
        Assert.Equal(1.0, retimed.M(0));
        Assert.Equal(0.0, retimed.Sigma(0));
        Assert.Equal(schedule.Sigma(schedule.MaxTime), retimed.Sigma(tau), 1e-10);
        // The W2 speed of the retimed path is constant (chain rule through M, Sigma, MDot, SigmaDot).
        foreach (double u in new[] { 0.01, 0.2, 0.5, 0.8, 0.99 })
            Assert.Equal(l / tau, WassersteinSpeed.Gaussian(retimed, Data, u * tau), 1e-4 * l / tau);
        // Independent cost integrals: c2 of the base (before) and of the retimed schedule (after), from the entropy production.
        var before = EntropyProduction.Integrate(schedule, Data);
        var after = EntropyProduction.Integrate(retimed, Data);
        Assert.Equal(before.KineticCost, result.CostBefore, 1e-6 * result.CostBefore);
        Assert.Equal(result.CostAfter, after.KineticCost, 1e-5 * result.CostAfter);
        Assert.True(result.CostBefore * result.DurationBefore >= l * l * (1 - 1e-9));
        // Re-timing the same path does not change the total entropy production of a VP path, only its cost.
        if (name != "cond-ot")
            Assert.Equal(before.TotalEntropyProduction, after.TotalEntropyProduction, 1e-5);
    }

    [Fact]
    public void RetimedCosineHasEfficiencyOfItsPathNotOfItsClock()
    {
        // Efficiency W2^2 / (tau c2) = (W2 / L)^2 after re-timing: only the path's detour is left.
        var schedule = new CosineSchedule();
        var result = ScheduleRetiming.ConstantSpeed(schedule, t => WassersteinSpeed.Gaussian(schedule, Data, t));
        double w2 = WassersteinSpeed.GaussianDistance(schedule, Data, 0, schedule.MaxTime);
        double efficiency = WassersteinSpeed.Efficiency(w2, result.DurationAfter, result.CostAfter);
        Assert.Equal(Math.Pow(w2 / result.PathLength, 2), efficiency, 1e-12);
        double original = WassersteinSpeed.Efficiency(w2, result.DurationBefore, result.CostBefore);
        Assert.True(efficiency > original);
    }

    [Fact]
    public void EqualLengthGridHasEqualStepsAndMinimalDiscreteCost()
    {
        var schedule = new CosineSchedule();
        Func<double, double> speed = t => WassersteinSpeed.Gaussian(schedule, Data, t);
        var grid = ScheduleRetiming.EqualLengthSteps(schedule, speed, 8, tEnd: 0.01);
        Assert.Equal(9, grid.Times.Length);
        Assert.Equal(schedule.MaxTime, grid.Times[0]);
        Assert.Equal(0.01, grid.Times[^1]);
        double total = WassersteinSpeed.PathLength(speed, 0.01, schedule.MaxTime);
        Assert.Equal(total, grid.Length, 1e-6 * total);
        for (int i = 0; i < 8; i++)
        {
            Assert.True(grid.Times[i + 1] < grid.Times[i]);
            double piece = WassersteinSpeed.PathLength(speed, grid.Times[i + 1], grid.Times[i]);
            Assert.Equal(total / 8, piece, 1e-5 * total);
        }
        Assert.Equal(total * total, grid.EqualLengthCost, 1e-5 * total * total);
        Assert.True(grid.UniformGridCost > grid.EqualLengthCost);
        // Must be accepted as a sampler grid.
        Assert.Equal(grid.Times, TimeGrid.FromTimes(schedule, grid.Times));
    }

    [Theory]
    [InlineData("cosine")]
    [InlineData("cond-ot")]
    [InlineData("vp-linear")]
    [InlineData("gaussian-ot")]
    public void EqualLengthGridWithDefaultEndsRunsFromMaxTimeExactlyToZero(string name)
    {
        // Regression (issue 9 item 5.1): the default tStart = MaxTime rounded to RetimedTime(MaxTime) > tau' and threw;
        // tEnd = 0 could come back as -1.1e-16. The grid must start at MaxTime, end exactly at 0 and decrease strictly.
        NoiseSchedule schedule = name switch
        {
            "cosine" => new CosineSchedule(),
            "cond-ot" => new CondOtSchedule(),
            "vp-linear" => new VpLinearSchedule(),
            _ => new GaussianOtSchedule(0.5),
        };
        Func<double, double> speed = t => WassersteinSpeed.Gaussian(schedule, Data, t);
        foreach (int steps in new[] { 1, 2, 7, 50 })
        {
            var grid = ScheduleRetiming.EqualLengthSteps(schedule, speed, steps);
            Assert.Equal(steps + 1, grid.Times.Length);
            Assert.Equal(schedule.MaxTime, grid.Times[0]);
            Assert.Equal(0.0, grid.Times[^1]);
            for (int i = 0; i < steps; i++) Assert.True(grid.Times[i + 1] < grid.Times[i], $"times[{i + 1}] = {grid.Times[i + 1]} >= times[{i}]");
            double total = WassersteinSpeed.PathLength(speed, 0, schedule.MaxTime);
            Assert.Equal(total, grid.Length, 1e-6 * total);
        }
        // A genuinely out-of-range start still throws.
        Assert.Equal("tStart", Assert.Throws<ArgumentOutOfRangeException>(
            () => ScheduleRetiming.EqualLengthSteps(schedule, speed, 4, schedule.MaxTime * (1 + 1e-6))).ParamName);
    }

    [Fact]
    public void ThermodynamicSpeedOfAMixtureCanBeUsed()
    {
        var schedule = new CondOtSchedule();
        var mixture = GaussianMixtureDenoiser.Isotropic([0.5, 0.5], [-1.0, 1.0], [0.3, 0.3]);
        Func<double, double> speed = t => Math.Sqrt(EntropyProduction.Rate(schedule, mixture, Math.Max(t, 1e-12)).KineticEnergy);
        var result = ScheduleRetiming.ConstantSpeed(schedule, speed, middleIntervals: 8);
        Assert.True(result.CostBefore > result.CostAfter);
        double mid = result.Schedule.Tau / 2;
        double v = Math.Sqrt(EntropyProduction.Rate(result.Schedule, mixture, mid).KineticEnergy);
        Assert.Equal(result.Schedule.Speed, v, 1e-4 * v);
    }

    [Fact]
    public void InvalidInputsNameTheArgument()
    {
        var schedule = new CosineSchedule();
        Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => ScheduleRetiming.ConstantSpeed(schedule, _ => 1, 0)).ParamName);
        Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => ScheduleRetiming.ConstantSpeed(schedule, _ => 1, double.NaN)).ParamName);
        Assert.Equal("speed", Assert.Throws<ArgumentException>(() => ScheduleRetiming.ConstantSpeed(schedule, _ => double.NaN)).ParamName);
        Assert.Equal("speed", Assert.Throws<ArgumentException>(() => ScheduleRetiming.ConstantSpeed(schedule, _ => 0)).ParamName);
        Assert.Equal("steps", Assert.Throws<ArgumentOutOfRangeException>(() => ScheduleRetiming.EqualLengthSteps(schedule, _ => 1, 0)).ParamName);
        Assert.Equal("tEnd", Assert.Throws<ArgumentOutOfRangeException>(() => ScheduleRetiming.EqualLengthSteps(schedule, _ => 1, 4, 0.5, 0.5)).ParamName);
        Assert.Throws<ArgumentNullException>(() => ScheduleRetiming.ConstantSpeed(schedule, null!));
        var retimed = ScheduleRetiming.ConstantSpeed(schedule, _ => 1).Schedule;
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => retimed.M(-0.1)).ParamName);
        Assert.Equal("baseTime", Assert.Throws<ArgumentOutOfRangeException>(() => retimed.RetimedTime(double.NaN)).ParamName);
    }
}
