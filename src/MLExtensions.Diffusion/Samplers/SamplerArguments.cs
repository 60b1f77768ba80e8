using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Samplers;

/// <summary>The argument checks every <see cref="ISampler"/> shares, in one place.</summary>
internal static class SamplerArguments
{
    /// <summary>
    /// Validates a <see cref="ISampler.Sample"/> call: non-null denoiser and schedule; at least two finite, strictly
    /// decreasing times within [0, schedule.MaxTime] with sigma &gt; 0 at every time but the last; a non-empty, finite
    /// <paramref name="x"/> whose length is a multiple of the denoiser's dimension.
    /// </summary>
    /// <returns>The number of rows.</returns>
    public static int Check(IDenoiser denoiser, NoiseSchedule schedule, ReadOnlySpan<double> times, ReadOnlySpan<double> x)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(schedule);
        if (times.Length < 2)
            throw new ArgumentException($"The time grid needs at least two points; it has {times.Length}.", nameof(times));
        double maxTime = schedule.MaxTime;
        for (int i = 0; i < times.Length; i++)
        {
            double t = times[i];
            if (!double.IsFinite(t))
                throw new ArgumentException($"times[{i}] = {t} is not finite.", nameof(times));
            if (t < 0 || t > maxTime)
                throw new ArgumentException($"times[{i}] = {t} lies outside [0, {maxTime}] (schedule {schedule}).", nameof(times));
            if (i > 0 && !(t < times[i - 1]))
                throw new ArgumentException($"The times must be strictly decreasing, but times[{i}] = {t} >= times[{i - 1}] = {times[i - 1]}.", nameof(times));
            if (i < times.Length - 1 && !(schedule.Sigma(t) > 0))
                throw new ArgumentException($"The schedule has sigma = {schedule.Sigma(t)} at times[{i}] = {t}; only the last time may have sigma = 0.", nameof(times));
        }
        int d = denoiser.Dimension;
        if (x.Length == 0 || x.Length % d != 0)
            throw new ArgumentException($"The length of x, {x.Length}, is not a positive multiple of the denoiser dimension {d}.", nameof(x));
        for (int i = 0; i < x.Length; i++)
            if (!double.IsFinite(x[i]))
                throw new ArgumentException($"x[{i}] = {x[i]} is not finite.", nameof(x));
        return x.Length / d;
    }

    /// <summary>Throws when a stochastic sampler gets no noise source.</summary>
    public static Random CheckRandom(Random? random) =>
        random ?? throw new ArgumentNullException(nameof(random), "This sampler is stochastic: pass a (seeded) Random.");

    /// <summary>
    /// Validates the extra requirements of the Li et al. discrete-chain samplers: a <see cref="DiscreteBetaSchedule"/>
    /// and a grid of consecutive integers (each step goes from t to t - 1).
    /// </summary>
    /// <returns>The schedule, cast.</returns>
    public static DiscreteBetaSchedule CheckChain(NoiseSchedule schedule, ReadOnlySpan<double> times)
    {
        if (schedule is not DiscreteBetaSchedule chain)
            throw new ArgumentException($"This sampler runs the discrete chain of a {nameof(DiscreteBetaSchedule)}; got {schedule}.", nameof(schedule));
        for (int i = 0; i < times.Length; i++)
        {
            if (times[i] != Math.Round(times[i]) || (i > 0 && times[i] != times[i - 1] - 1))
                throw new ArgumentException(
                    $"This sampler needs consecutive integer times (T, T-1, ..., 1, 0 or a run of it); times[{i}] = {times[i]} breaks that.", nameof(times));
        }
        return chain;
    }
}
