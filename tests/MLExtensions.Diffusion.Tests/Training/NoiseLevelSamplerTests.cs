using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Tests.Training;

public class NoiseLevelSamplerTests
{
    [Fact]
    public void UniformTimeMapsUniformTimesThroughSigmaOverM()
    {
        var schedule = new CosineSchedule(1.0);
        double tMin = 0.01;
        var sampler = NoiseLevelSampler.UniformTime(schedule, tMin);
        var rng = new Random(1);
        var s = Enumerable.Range(0, 20000).Select(_ => sampler.Sample(rng)).OrderBy(v => v).ToArray();
        double lo = schedule.Sigma(tMin) / schedule.M(tMin), hi = schedule.Sigma(schedule.MaxTime) / schedule.M(schedule.MaxTime);
        Assert.True(s[0] >= lo && s[^1] <= hi);
        // Mapped back to time through the log-SNR -ln(sigma/m), the samples must be uniform on [tMin, MaxTime]
        // (quantile standard error about 0.003 here).
        var times = s.Select(v => schedule.TimeAtLogSnr(-Math.Log(v))).ToArray();
        foreach (double q in new[] { 0.1, 0.25, 0.5, 0.75, 0.9 })
            Assert.Equal(tMin + q * (schedule.MaxTime - tMin), times[(int)(q * times.Length)], 0.012);
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseLevelSampler.UniformTime(schedule, 0));
    }

    [Fact]
    public void LogNormalHasTheRequestedLogMoments()
    {
        var sampler = NoiseLevelSampler.LogNormal(-1.2, 1.2);
        var rng = new Random(2);
        var logs = Enumerable.Range(0, 40000).Select(_ => Math.Log(sampler.Sample(rng))).ToArray();
        double mean = logs.Average();
        double sd = Math.Sqrt(logs.Select(v => (v - mean) * (v - mean)).Average());
        Assert.Equal(-1.2, mean, 0.03);
        Assert.Equal(1.2, sd, 0.03);
    }
}
