namespace MLExtensions.Diffusion.Schedules;

/// <summary>
/// Time grids for samplers (SPEC section 5): strictly decreasing times from high noise to low, steps + 1 points,
/// all within [0, <see cref="NoiseSchedule.MaxTime"/>].
/// </summary>
/// <remarks>
/// A grid is plain data: a sampler walks times[0] &gt; times[1] &gt; ... &gt; times[^1]. Grids built on the noise level
/// (log-SNR, Karras) map back to time with <see cref="NoiseSchedule.TimeAtLogSnr"/>, so they work for every schedule.
/// </remarks>
public static class TimeGrid
{
    /// <summary>Default relative end time of <see cref="UniformLogSnr"/>: tEnd = 1e-3 tau (log-SNR is infinite at t = 0).</summary>
    public const double DefaultLogSnrEndFraction = 1e-3;

    /// <summary>Times uniform in t: t_i = tStart + (i / steps) (tEnd - tStart), i = 0..steps.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="steps">Number of steps; at least 1.</param>
    /// <param name="tStart">First (largest) time; defaults to <see cref="NoiseSchedule.MaxTime"/>.</param>
    /// <param name="tEnd">Last (smallest) time, in [0, tStart).</param>
    /// <returns>steps + 1 strictly decreasing times, with the endpoints exactly tStart and tEnd.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">steps &lt; 1, or the times are non-finite, outside [0, MaxTime] or not tEnd &lt; tStart.</exception>
    /// <exception cref="ArgumentException">Too many steps for the interval to be resolved in double precision.</exception>
    public static double[] Uniform(NoiseSchedule schedule, int steps, double? tStart = null, double tEnd = 0)
    {
        double start = ValidateInterval(schedule, steps, tStart, tEnd, requirePositiveEnd: false);
        var times = new double[steps + 1];
        for (int i = 0; i <= steps; i++) times[i] = start + (tEnd - start) * i / steps;
        times[0] = start;
        times[steps] = tEnd;
        RequireResolved(times, nameof(steps));
        return times;
    }

    /// <summary>
    /// Times uniform in the log-SNR lambda: lambda_i = lambda(tStart) + (i / (n - 1)) (lambda(tEnd) - lambda(tStart)),
    /// i = 0..n-1, t_i = <see cref="NoiseSchedule.TimeAtLogSnr"/>(lambda_i). tEnd must be positive because lambda(0) = +infinity.
    /// </summary>
    /// <remarks>
    /// Without <paramref name="appendZero"/> (the default, unchanged behaviour) the grid is the n = steps + 1 log-SNR-uniform
    /// times and ends at tEnd &gt; 0, so a sampler stops at the noise level of tEnd. With it, as in
    /// <see cref="EdmRho"/>, the grid is the n = steps log-SNR-uniform times from tStart to tEnd followed by t = 0: the last
    /// step goes from tEnd to noise-free data (with steps = 1 the grid is [tStart, 0]).
    /// </remarks>
    /// <param name="schedule">The schedule.</param>
    /// <param name="steps">Number of steps; at least 1.</param>
    /// <param name="tStart">First (largest) time; defaults to <see cref="NoiseSchedule.MaxTime"/>.</param>
    /// <param name="tEnd">Last log-SNR-uniform time, in (0, tStart); defaults to <see cref="DefaultLogSnrEndFraction"/> times tau.</param>
    /// <param name="appendZero">Whether the grid ends with a final step to t = 0 (see remarks); default false.</param>
    /// <returns>steps + 1 strictly decreasing times, starting exactly at tStart and ending exactly at tEnd, or at 0 with
    /// <paramref name="appendZero"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">steps &lt; 1, or the times are non-finite, outside (0, MaxTime] or not tEnd &lt; tStart.</exception>
    /// <exception cref="ArgumentException">The log-SNR does not change between tEnd and tStart, or too many steps to resolve.</exception>
    public static double[] UniformLogSnr(NoiseSchedule schedule, int steps, double? tStart = null, double? tEnd = null, bool appendZero = false)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        double end = tEnd ?? DefaultLogSnrEndFraction * schedule.Tau;
        double start = ValidateInterval(schedule, steps, tStart, end, requirePositiveEnd: true);
        double l0 = schedule.LogSnr(start), l1 = schedule.LogSnr(end);
        if (!(l1 > l0))
            throw new ArgumentException(
                $"The log-SNR must increase from tStart to tEnd, but lambda({start}) = {l0} and lambda({end}) = {l1}.", nameof(tEnd));
        int count = appendZero ? steps : steps + 1;
        var times = new double[steps + 1];
        for (int i = 1; i < count - 1; i++) times[i] = schedule.TimeAtLogSnr(l0 + (l1 - l0) * i / (count - 1));
        times[0] = start;
        if (count > 1) times[count - 1] = end;
        if (appendZero) times[steps] = 0;
        RequireResolved(times, nameof(steps));
        return times;
    }

    /// <summary>
    /// Times of <paramref name="schedule"/> at which its noise level sigma_t / m_t takes the given values: the inverse of
    /// the noise level, by lambda = -ln(sigma/m) and <see cref="NoiseSchedule.TimeAtLogSnr"/> (the same map as
    /// <see cref="EdmRho"/>). Level 0 maps to t = 0. On <see cref="VeSchedule"/> the times are the levels themselves.
    /// </summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="noiseLevels">At least two finite, non-negative, strictly decreasing noise levels sigma/m, the first at most
    /// the schedule's noise level at MaxTime (0 can only be the last).</param>
    /// <returns>One time per level, strictly decreasing, within [0, MaxTime].</returns>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The first level exceeds the largest noise level sigma/m the schedule
    /// reaches at MaxTime (the message gives it).</exception>
    /// <exception cref="ArgumentException">Fewer than two levels, a non-finite or negative level, levels not strictly
    /// decreasing, or two levels the schedule's noise level cannot tell apart in double precision.</exception>
    public static double[] FromNoiseLevels(NoiseSchedule schedule, ReadOnlySpan<double> noiseLevels)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (noiseLevels.Length < 2)
            throw new ArgumentException($"A grid needs at least two noise levels, but 'noiseLevels' has {noiseLevels.Length}.", nameof(noiseLevels));
        ScheduleValidation.RequireAllFinite(noiseLevels, nameof(noiseLevels));
        for (int i = 0; i < noiseLevels.Length; i++)
        {
            if (noiseLevels[i] < 0)
                throw new ArgumentException($"Noise levels must be non-negative, but noiseLevels[{i}] = {noiseLevels[i]}.", nameof(noiseLevels));
        }
        ScheduleValidation.RequireStrictlyDecreasing(noiseLevels, nameof(noiseLevels));
        RequireReachable(schedule, noiseLevels[0], nameof(noiseLevels));
        var times = new double[noiseLevels.Length];
        for (int i = 0; i < times.Length; i++) times[i] = TimeAtNoiseLevel(schedule, noiseLevels[i]);
        RequireResolved(times, nameof(noiseLevels));
        return times;
    }

    /// <summary>
    /// The EDM/Karras rho-spacing of noise levels, sigma_i = (smax^(1/rho) + i/(N-1) (smin^(1/rho) - smax^(1/rho)))^rho,
    /// i = 0..N-1 (Karras et al., NeurIPS 2022, eq. 5). A single level (N = 1) is sigmaMax.
    /// </summary>
    /// <param name="count">Number of levels N; at least 1.</param>
    /// <param name="sigmaMin">Smallest level; finite, positive, below <paramref name="sigmaMax"/>.</param>
    /// <param name="sigmaMax">Largest level; finite.</param>
    /// <param name="rho">The exponent rho; finite and positive (EDM: 7).</param>
    /// <returns>N strictly decreasing noise levels from sigmaMax to sigmaMin.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public static double[] KarrasNoiseLevels(int count, double sigmaMin, double sigmaMax, double rho = 7.0)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "'count' must be at least 1.");
        ValidateKarras(sigmaMin, sigmaMax, rho);
        var levels = new double[count];
        double a = Math.Pow(sigmaMax, 1 / rho), b = Math.Pow(sigmaMin, 1 / rho);
        for (int i = 0; i < count; i++)
            levels[i] = count == 1 ? sigmaMax : Math.Pow(a + (double)i / (count - 1) * (b - a), rho);
        levels[0] = sigmaMax;
        if (count > 1) levels[count - 1] = sigmaMin;
        return levels;
    }

    /// <summary>
    /// The EDM/Karras rho-spacing in the VE noise level sigma/m (<see cref="KarrasNoiseLevels"/>), mapped to times by
    /// lambda = -ln(sigma/m) and <see cref="NoiseSchedule.TimeAtLogSnr"/>. On <see cref="VeSchedule"/> the times are the
    /// noise levels themselves.
    /// </summary>
    /// <remarks>
    /// Following EDM, with <paramref name="appendZero"/> (the default) the grid is the N = steps Karras levels followed by
    /// t = 0, so the last step goes from sigmaMin to noise-free data (EDM Algorithm 1, sigma_N = 0); with steps = 1 it is
    /// [t(sigmaMax), 0]. Without it the grid is the N = steps + 1 Karras levels and ends at t(sigmaMin) &gt; 0.
    /// </remarks>
    /// <param name="schedule">The schedule.</param>
    /// <param name="steps">Number of steps; at least 1.</param>
    /// <param name="sigmaMin">Smallest noise level sigma/m; finite, positive, below <paramref name="sigmaMax"/> (EDM: 0.002).</param>
    /// <param name="sigmaMax">Largest noise level sigma/m; at most the schedule's noise level at MaxTime (EDM: 80).</param>
    /// <param name="rho">The exponent rho; finite and positive (EDM: 7).</param>
    /// <param name="appendZero">Whether to end the grid at t = 0 (see remarks).</param>
    /// <returns>steps + 1 strictly decreasing times.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range, e.g. sigmaMax above the schedule's
    /// largest noise level.</exception>
    /// <exception cref="ArgumentException">The schedule's noise level is flat, so two levels map to the same time.</exception>
    public static double[] EdmRho(NoiseSchedule schedule, int steps, double sigmaMin, double sigmaMax, double rho = 7.0, bool appendZero = true)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "'steps' must be at least 1.");
        ValidateKarras(sigmaMin, sigmaMax, rho);
        RequireReachable(schedule, sigmaMax, nameof(sigmaMax));
        int count = appendZero ? steps : steps + 1;
        double[] levels = KarrasNoiseLevels(count, sigmaMin, sigmaMax, rho);
        var times = new double[steps + 1];
        for (int i = 0; i < count; i++) times[i] = TimeAtNoiseLevel(schedule, levels[i]);
        if (appendZero) times[steps] = 0;
        RequireResolved(times, nameof(steps));
        return times;
    }

    /// <summary>A user-given grid, validated and copied.</summary>
    /// <param name="schedule">The schedule the grid is for.</param>
    /// <param name="times">At least two finite, strictly decreasing times within [0, MaxTime].</param>
    /// <returns>A copy of <paramref name="times"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentException">Fewer than two times, a non-finite time, a time outside [0, MaxTime], or times not
    /// strictly decreasing (the message names the index).</exception>
    public static double[] FromTimes(NoiseSchedule schedule, ReadOnlySpan<double> times)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (times.Length < 2)
            throw new ArgumentException($"A grid needs at least two times, but 'times' has {times.Length}.", nameof(times));
        ScheduleValidation.RequireAllFinite(times, nameof(times));
        for (int i = 0; i < times.Length; i++)
        {
            if (times[i] < 0 || times[i] > schedule.MaxTime)
                throw new ArgumentException(
                    $"Every time must lie in [0, {schedule.MaxTime}] (MaxTime of '{schedule.Name}'), but times[{i}] = {times[i]}.", nameof(times));
        }
        ScheduleValidation.RequireStrictlyDecreasing(times, nameof(times));
        return times.ToArray();
    }

    private static double ValidateInterval(NoiseSchedule schedule, int steps, double? tStart, double tEnd, bool requirePositiveEnd)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "'steps' must be at least 1.");
        double start = tStart ?? schedule.MaxTime;
        if (!double.IsFinite(start) || start <= 0 || start > schedule.MaxTime)
            throw new ArgumentOutOfRangeException(nameof(tStart), start, $"'tStart' must lie in (0, {schedule.MaxTime}] (MaxTime of '{schedule.Name}').");
        bool endOk = requirePositiveEnd ? tEnd > 0 : tEnd >= 0;
        if (!double.IsFinite(tEnd) || !endOk || tEnd >= start)
            throw new ArgumentOutOfRangeException(nameof(tEnd), tEnd,
                requirePositiveEnd
                    ? $"'tEnd' must lie in (0, tStart = {start}): the log-SNR is infinite at t = 0."
                    : $"'tEnd' must lie in [0, tStart = {start}).");
        return start;
    }

    private static void ValidateKarras(double sigmaMin, double sigmaMax, double rho)
    {
        ScheduleValidation.RequireFinitePositive(sigmaMin, nameof(sigmaMin));
        if (!double.IsFinite(sigmaMax) || sigmaMax <= sigmaMin)
            throw new ArgumentOutOfRangeException(nameof(sigmaMax), sigmaMax, $"'sigmaMax' must be finite and above 'sigmaMin' = {sigmaMin}.");
        ScheduleValidation.RequireFinitePositive(rho, nameof(rho));
    }

    /// <summary>The time at which sigma/m = <paramref name="level"/> (0 at level 0): the one inverse of the noise level.</summary>
    private static double TimeAtNoiseLevel(NoiseSchedule schedule, double level) =>
        level == 0 ? 0 : schedule.TimeAtLogSnr(-Math.Log(level));

    /// <summary>Throws when <paramref name="level"/> exceeds the noise level sigma/m at MaxTime (beyond round-off).</summary>
    private static void RequireReachable(NoiseSchedule schedule, double level, string paramName)
    {
        double top = schedule.Sigma(schedule.MaxTime) / schedule.M(schedule.MaxTime);
        if (level > top * (1 + 1e-12))
            throw new ArgumentOutOfRangeException(paramName, level,
                $"'{paramName}' asks for noise level {level}, above the largest noise level sigma/m = {top} that schedule '{schedule.Name}' reaches at MaxTime = {schedule.MaxTime}.");
    }

    private static void RequireResolved(double[] times, string paramName)
    {
        for (int i = 1; i < times.Length; i++)
        {
            if (!(times[i] < times[i - 1]))
                throw new ArgumentException(
                    $"The grid is not strictly decreasing at index {i} ({times[i]} >= {times[i - 1]}): too many steps for the "
                    + "interval, or the schedule's noise level is flat there.", paramName);
        }
    }
}
