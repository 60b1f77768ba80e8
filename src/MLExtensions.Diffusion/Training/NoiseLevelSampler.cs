using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Training;

/// <summary>Draws the VE noise level sigma / m of each training row.</summary>
public abstract class NoiseLevelSampler
{
    /// <summary>Returns one VE noise level sigma / m &gt; 0 in data units.</summary>
    public abstract double Sample(Random random);

    /// <summary>Uniform t on [<paramref name="minTime"/>, schedule.MaxTime], sigma = sigma_t / m_t.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minTime"/> is not in (0, MaxTime).</exception>
    public static NoiseLevelSampler UniformTime(NoiseSchedule schedule, double minTime)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (!(minTime > 0 && minTime < schedule.MaxTime)) throw new ArgumentOutOfRangeException(nameof(minTime), minTime, "The minimum time must lie in (0, MaxTime).");
        return new UniformTimeSampler(schedule, minTime);
    }

    /// <summary>EDM log-normal: ln sigma ~ N(<paramref name="mean"/>, <paramref name="standardDeviation"/>^2) (Karras et al. 2022, P_mean = -1.2, P_std = 1.2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An argument is not finite, or the deviation is not positive.</exception>
    public static NoiseLevelSampler LogNormal(double mean = -1.2, double standardDeviation = 1.2)
    {
        if (!double.IsFinite(mean)) throw new ArgumentOutOfRangeException(nameof(mean), mean, "The mean must be finite.");
        if (!(standardDeviation > 0) || !double.IsFinite(standardDeviation)) throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "The deviation must be finite and positive.");
        return new LogNormalSampler(mean, standardDeviation);
    }

    private sealed class UniformTimeSampler(NoiseSchedule schedule, double minTime) : NoiseLevelSampler
    {
        public override double Sample(Random random)
        {
            double t = minTime + (schedule.MaxTime - minTime) * random.NextDouble();
            return schedule.Sigma(t) / schedule.M(t);
        }
    }

    private sealed class LogNormalSampler(double mean, double standardDeviation) : NoiseLevelSampler
    {
        private readonly double[] _draw = new double[1];

        public override double Sample(Random random)
        {
            Randomness.StandardNormal.Fill(random, _draw);
            return Math.Exp(mean + standardDeviation * _draw[0]);
        }
    }
}
