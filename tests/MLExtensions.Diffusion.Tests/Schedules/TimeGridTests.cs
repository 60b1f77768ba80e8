using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Schedules;

public class TimeGridTests
{
    public static TheoryData<string> ScheduleNames => new() { "ve", "vp-linear", "vp-cosine", "cosine", "cond-ot", "gaussian-ot" };

    private static NoiseSchedule Make(string name) => name switch
    {
        "ve" => new VeSchedule(80),
        "vp-linear" => new VpLinearSchedule(),
        "vp-cosine" => new VpCosineSchedule(),
        "cosine" => new CosineSchedule(2.0),
        "cond-ot" => new CondOtSchedule(),
        "gaussian-ot" => new GaussianOtSchedule(0.5),
        _ => throw new ArgumentException(name),
    };

    private static void StrictlyDecreasing(double[] times, NoiseSchedule s)
    {
        for (int i = 1; i < times.Length; i++) Assert.True(times[i] < times[i - 1], $"times[{i}] = {times[i]} >= times[{i - 1}].");
        Assert.True(times[0] <= s.MaxTime && times[^1] >= 0);
    }

    [Theory]
    [MemberData(nameof(ScheduleNames))]
    public void UniformIsEquallySpacedWithExactEndpoints(string name)
    {
        var s = Make(name);
        double[] g = TimeGrid.Uniform(s, 10);
        Assert.Equal(11, g.Length);
        Assert.Equal(s.MaxTime, g[0]);
        Assert.Equal(0.0, g[^1]);
        StrictlyDecreasing(g, s);
        for (int i = 1; i <= 10; i++) Assert.Equal(s.MaxTime / 10, g[i - 1] - g[i], 12);

        double[] h = TimeGrid.Uniform(s, 1, 0.5 * s.MaxTime, 0.1 * s.MaxTime);
        Assert.Equal(new[] { 0.5 * s.MaxTime, 0.1 * s.MaxTime }, h);
    }

    [Theory]
    [MemberData(nameof(ScheduleNames))]
    public void UniformLogSnrIsEquallySpacedInLambda(string name)
    {
        var s = Make(name);
        double tEnd = 1e-3 * s.Tau;
        double[] g = TimeGrid.UniformLogSnr(s, 16, tEnd: tEnd);
        Assert.Equal(17, g.Length);
        Assert.Equal(s.MaxTime, g[0]);
        Assert.Equal(tEnd, g[^1]);
        StrictlyDecreasing(g, s);
        double dl = (s.LogSnr(tEnd) - s.LogSnr(s.MaxTime)) / 16;
        for (int i = 1; i <= 16; i++) Assert.Equal(dl, s.LogSnr(g[i]) - s.LogSnr(g[i - 1]), 7);

        double[] d = TimeGrid.UniformLogSnr(s, 4);
        Assert.Equal(TimeGrid.DefaultLogSnrEndFraction * s.Tau, d[^1]);
    }

    [Theory]
    [MemberData(nameof(ScheduleNames))]
    public void UniformLogSnrCanEndWithAStepToZero(string name)
    {
        var s = Make(name);
        double tEnd = 1e-3 * s.Tau;
        double[] g = TimeGrid.UniformLogSnr(s, 16, tEnd: tEnd, appendZero: true);
        Assert.Equal(17, g.Length);
        Assert.Equal(s.MaxTime, g[0]);
        Assert.Equal(tEnd, g[15]);
        Assert.Equal(0.0, g[^1]);
        StrictlyDecreasing(g, s);
        // The first 16 times are uniform in lambda over 15 intervals.
        double dl = (s.LogSnr(tEnd) - s.LogSnr(s.MaxTime)) / 15;
        for (int i = 1; i <= 15; i++) Assert.Equal(dl, s.LogSnr(g[i]) - s.LogSnr(g[i - 1]), 7);
        Assert.Equal(new[] { s.MaxTime, 0.0 }, TimeGrid.UniformLogSnr(s, 1, appendZero: true));
        // The default is unchanged: no final step to zero.
        Assert.Equal(TimeGrid.DefaultLogSnrEndFraction * s.Tau, TimeGrid.UniformLogSnr(s, 4)[^1]);
    }

    [Theory]
    [MemberData(nameof(ScheduleNames))]
    public void FromNoiseLevelsInvertsTheNoiseLevel(string name)
    {
        var s = Make(name);
        double top = s.Sigma(s.MaxTime) / s.M(s.MaxTime);
        double[] levels = { Math.Min(0.5 * top, 40), 3, 1, 0.1, 0.002, 0 };
        double[] g = TimeGrid.FromNoiseLevels(s, levels);
        Assert.Equal(levels.Length, g.Length);
        StrictlyDecreasing(g, s);
        Assert.Equal(0.0, g[^1]);
        for (int i = 0; i < levels.Length - 1; i++)
        {
            double level = s.Sigma(g[i]) / s.M(g[i]);
            Assert.True(Math.Abs(level - levels[i]) <= 1e-8 * levels[i], $"{name}: level {i} = {level}, asked {levels[i]}.");
        }
        // The top level itself is reachable and maps to MaxTime; Karras levels plus 0 give exactly the EdmRho grid.
        Assert.Equal(s.MaxTime, TimeGrid.FromNoiseLevels(s, [top, 0.0])[0], 1e-9 * s.MaxTime);
        double[] karras = [.. TimeGrid.KarrasNoiseLevels(10, 0.002, Math.Min(top, 80)), 0.0];
        Assert.Equal(TimeGrid.EdmRho(s, 10, 0.002, Math.Min(top, 80)), TimeGrid.FromNoiseLevels(s, karras));
    }

    [Fact]
    public void FromNoiseLevelsOnVeReturnsTheLevelsAndRejectsBadLevels()
    {
        var ve = new VeSchedule(80);
        double[] levels = { 80, 10, 0.5, 0.002, 0 };
        double[] g = TimeGrid.FromNoiseLevels(ve, levels);
        for (int i = 0; i < levels.Length; i++) Assert.Equal(levels[i], g[i], 1e-9 * levels[i]);
        var error = Assert.Throws<ArgumentOutOfRangeException>("noiseLevels", () => TimeGrid.FromNoiseLevels(ve, [81.0, 1.0]));
        Assert.Contains("80", error.Message);
        Assert.Throws<ArgumentException>("noiseLevels", () => TimeGrid.FromNoiseLevels(ve, [1.0, 2.0]));
        Assert.Throws<ArgumentException>("noiseLevels", () => TimeGrid.FromNoiseLevels(ve, [1.0, 1.0]));
        Assert.Throws<ArgumentException>("noiseLevels", () => TimeGrid.FromNoiseLevels(ve, [1.0, -0.5]));
        Assert.Throws<ArgumentException>("noiseLevels", () => TimeGrid.FromNoiseLevels(ve, [1.0, double.NaN]));
        Assert.Throws<ArgumentException>("noiseLevels", () => TimeGrid.FromNoiseLevels(ve, [1.0]));
        Assert.Throws<ArgumentNullException>("schedule", () => TimeGrid.FromNoiseLevels(null!, [1.0, 0.0]));
    }

    [Theory]
    [MemberData(nameof(ScheduleNames))]
    public void EdmRhoMatchesKarrasFormula(string name)
    {
        var s = Make(name);
        const double smin = 0.002, smax = 80, rho = 7;
        foreach (bool appendZero in new[] { true, false })
        {
            double[] g = TimeGrid.EdmRho(s, 18, smin, smax, rho, appendZero);
            Assert.Equal(19, g.Length);
            StrictlyDecreasing(g, s);
            int n = appendZero ? 18 : 19;
            for (int i = 0; i < n; i++)
            {
                double expected = Math.Pow(Math.Pow(smax, 1 / rho) + (double)i / (n - 1) * (Math.Pow(smin, 1 / rho) - Math.Pow(smax, 1 / rho)), rho);
                double level = s.Sigma(g[i]) / s.M(g[i]);
                Assert.True(Math.Abs(level - expected) <= 1e-8 * expected, $"{name}: level {i} = {level}, Karras {expected}.");
            }
            if (appendZero) Assert.Equal(0.0, g[^1]);
        }
    }

    [Fact]
    public void EdmRhoOnVeReturnsKarrasLevelsAsTimes()
    {
        double[] g = TimeGrid.EdmRho(new VeSchedule(80), 5, 0.002, 80);
        double[] levels = TimeGrid.KarrasNoiseLevels(5, 0.002, 80);
        for (int i = 0; i < 5; i++) Assert.Equal(levels[i], g[i], 12);
        double[] one = TimeGrid.EdmRho(new VeSchedule(80), 1, 0.002, 80);
        Assert.Equal(2, one.Length);
        Assert.Equal(80.0, one[0], 12);
        Assert.Equal(0.0, one[1]);
        double[] noZero = TimeGrid.EdmRho(new VeSchedule(80), 1, 0.002, 80, appendZero: false);
        Assert.Equal(80.0, noZero[0], 12);
        Assert.Equal(0.002, noZero[1], 15);
    }

    [Fact]
    public void EdmRhoRejectsNoiseLevelsTheScheduleCannotReach()
    {
        var s = new CondOtSchedule(); // sigma/m at MaxTime = 999
        Assert.Throws<ArgumentOutOfRangeException>("sigmaMax", () => TimeGrid.EdmRho(s, 10, 0.002, 2000));
        Assert.Throws<ArgumentOutOfRangeException>("sigmaMax", () => TimeGrid.EdmRho(s, 10, 0.5, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>("sigmaMin", () => TimeGrid.EdmRho(s, 10, 0.0, 80));
        Assert.Throws<ArgumentOutOfRangeException>("rho", () => TimeGrid.EdmRho(s, 10, 0.002, 80, rho: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>("steps", () => TimeGrid.EdmRho(s, 0, 0.002, 80));
        Assert.Throws<ArgumentNullException>("schedule", () => TimeGrid.EdmRho(null!, 10, 0.002, 80));
        Assert.Throws<ArgumentOutOfRangeException>("count", () => TimeGrid.KarrasNoiseLevels(0, 0.002, 80));
    }

    [Fact]
    public void UniformGridsRejectBadArguments()
    {
        var s = new VpLinearSchedule();
        Assert.Throws<ArgumentOutOfRangeException>("steps", () => TimeGrid.Uniform(s, 0));
        Assert.Throws<ArgumentOutOfRangeException>("tStart", () => TimeGrid.Uniform(s, 4, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>("tStart", () => TimeGrid.Uniform(s, 4, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>("tEnd", () => TimeGrid.Uniform(s, 4, 0.5, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>("tEnd", () => TimeGrid.Uniform(s, 4, 0.5, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>("tEnd", () => TimeGrid.UniformLogSnr(s, 4, 1.0, 0.0));
        Assert.Throws<ArgumentOutOfRangeException>("steps", () => TimeGrid.UniformLogSnr(s, -1));
        Assert.Throws<ArgumentNullException>("schedule", () => TimeGrid.Uniform(null!, 4));
    }

    [Fact]
    public void FromTimesValidatesAndCopies()
    {
        var s = new CosineSchedule(); // MaxTime = 0.999
        double[] input = { 0.9, 0.5, 0.1, 0.0 };
        double[] g = TimeGrid.FromTimes(s, input);
        Assert.Equal(input, g);
        Assert.NotSame(input, g);

        static void Bad(NoiseSchedule s, double[] t, string fragment)
        {
            var ex = Assert.Throws<ArgumentException>("times", () => TimeGrid.FromTimes(s, t));
            Assert.Contains(fragment, ex.Message);
        }
        Bad(s, new[] { 0.5 }, "at least two");
        Bad(s, new[] { 0.5, double.NaN }, "times[1]");
        Bad(s, new[] { 1.0, 0.5 }, "times[0]");
        Bad(s, new[] { 0.5, -0.1 }, "times[1]");
        Bad(s, new[] { 0.5, 0.2, 0.2 }, "times[2]");
        Bad(s, new[] { 0.2, 0.5 }, "times[1]");
    }
}
