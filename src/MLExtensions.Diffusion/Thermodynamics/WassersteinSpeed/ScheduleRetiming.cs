using MathNet.Numerics.Integration;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// Re-timing of a schedule by a speed along its path (SPEC section 4): the W2 speed v2 (<see cref="WassersteinSpeed"/>)
/// or the thermodynamic speed sqrt(T Sdot) (<see cref="EntropyProduction"/>). For a fixed path the cost integral v^2 dt
/// over a duration tau is at least L^2 / tau, with equality exactly at constant speed; the re-timed schedule attains it,
/// and the equal-length grid is its N-step discrete counterpart.
/// </summary>
/// <remarks>
/// The speed is evaluated at knots of [0, MaxTime] (both ends included) and at 8 Gauss-Legendre points per interval.
/// The knots grow geometrically (ratio 1.5) from 1e-9 MaxTime away from each end up to the uniform width
/// MaxTime / (2 middleIntervals): about 150 intervals, 1400 evaluations, for the default. With v = v2 of a conservative path (exact
/// denoiser) the cost after re-timing equals the kinetic cost c2 of the re-timed schedule.
/// </remarks>
public static class ScheduleRetiming
{
    /// <summary>Default number of knot intervals per half of [0, MaxTime] at the uniform width (graded intervals are added at the ends).</summary>
    public const int DefaultMiddleIntervals = 32;

    private const double KnotCutoff = 1e-9;

    /// <summary>Re-times <paramref name="schedule"/> to constant speed over [0, <paramref name="tau"/>].</summary>
    /// <param name="schedule">The base schedule; its range [0, MaxTime] is re-timed.</param>
    /// <param name="speed">The speed v(t) &gt;= 0 on [0, MaxTime] (both ends are evaluated).</param>
    /// <param name="tau">The duration tau' of the re-timed schedule; defaults to the base MaxTime.</param>
    /// <param name="middleIntervals">Uniform knot intervals in the middle half; at least 4.</param>
    /// <returns>The re-timed schedule with the cost before and after.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tau"/> is not finite and positive, or <paramref name="middleIntervals"/> &lt; 4.</exception>
    /// <exception cref="ArgumentException">The speed returns a negative or non-finite value, or is zero everywhere.</exception>
    public static RetimingResult ConstantSpeed(NoiseSchedule schedule, Func<double, double> speed, double? tau = null, int middleIntervals = DefaultMiddleIntervals)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(speed);
        double duration = tau ?? schedule.MaxTime;
        if (!double.IsFinite(duration) || duration <= 0)
            throw new ArgumentOutOfRangeException(nameof(tau), duration, "'tau' must be finite and positive.");
        if (middleIntervals < 4)
            throw new ArgumentOutOfRangeException(nameof(middleIntervals), middleIntervals, "'middleIntervals' must be at least 4.");
        double end = schedule.MaxTime;
        double[] knots = Knots(end, middleIntervals);
        int n = knots.Length;
        var v = new double[n];
        var length = new double[n];
        for (int k = 0; k < n; k++) v[k] = Evaluate(speed, knots[k]);
        var rule = new GaussLegendreRule(-1, 1, GradedTimeQuadrature.Order);
        double cost = 0;
        for (int k = 0; k < n - 1; k++)
        {
            double mid = 0.5 * (knots[k] + knots[k + 1]), half = 0.5 * (knots[k + 1] - knots[k]), piece = 0;
            for (int j = 0; j < rule.Abscissas.Length; j++)
            {
                double value = Evaluate(speed, mid + half * rule.Abscissas[j]);
                piece += half * rule.Weights[j] * value;
                cost += half * rule.Weights[j] * value * value;
            }
            length[k + 1] = length[k] + piece;
        }
        double l = length[^1];
        if (!(l > 0)) throw new ArgumentException("The speed is zero along the whole schedule: there is nothing to re-time.", nameof(speed));
        var retimed = new RetimedSchedule(schedule, duration, knots, length, v);
        return new RetimingResult(retimed, l, end, cost, duration, l * l / duration);
    }

    /// <summary>
    /// An N-step time grid from <paramref name="tStart"/> down to <paramref name="tEnd"/> with equal length per step:
    /// l(t_i) = l(tStart) - (i / N) (l(tStart) - l(tEnd)), l the length along the schedule in the given speed.
    /// </summary>
    /// <param name="schedule">The schedule the grid is for.</param>
    /// <param name="speed">The speed v(t) &gt;= 0 on [0, MaxTime] (both ends are evaluated).</param>
    /// <param name="steps">Number of steps N; at least 1.</param>
    /// <param name="tStart">First (largest) time; defaults to MaxTime.</param>
    /// <param name="tEnd">Last (smallest) time, in [0, tStart).</param>
    /// <returns>The grid and the discrete costs of it and of the uniform grid. Its first time is exactly
    /// <paramref name="tStart"/> (MaxTime by default), its last exactly <paramref name="tEnd"/>, and it is strictly
    /// decreasing. Round-off of the length map at the ends (e.g. at MaxTime) is clamped away; a genuinely
    /// out-of-range time still throws.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1, or the times are NaN or out of range
    /// (<paramref name="tStart"/> outside (0, MaxTime], <paramref name="tEnd"/> outside [0, tStart)).</exception>
    /// <exception cref="ArgumentException">The speed is invalid, or zero over a step so the grid is not strictly decreasing.</exception>
    public static EqualLengthGrid EqualLengthSteps(NoiseSchedule schedule, Func<double, double> speed, int steps, double? tStart = null, double tEnd = 0)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(speed);
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "'steps' must be at least 1.");
        double start = tStart ?? schedule.MaxTime;
        if (!double.IsFinite(start) || start <= 0 || start > schedule.MaxTime)
            throw new ArgumentOutOfRangeException(nameof(tStart), start, $"'tStart' must lie in (0, {schedule.MaxTime}] (MaxTime of '{schedule.Name}').");
        if (!double.IsFinite(tEnd) || tEnd < 0 || tEnd >= start)
            throw new ArgumentOutOfRangeException(nameof(tEnd), tEnd, $"'tEnd' must lie in [0, tStart = {start}).");
        var retimed = ConstantSpeed(schedule, speed).Schedule;
        // start and tEnd were validated against [0, MaxTime]; the clamps below only remove round-off of the
        // forward and inverse length maps (e.g. RetimedTime(MaxTime) = tau' (1 + 1e-16)).
        double Forward(double s) => Math.Clamp(retimed.RetimedTime(Math.Clamp(s, 0, retimed.BaseEnd)), 0, retimed.Tau);
        double a = Forward(start), b = Forward(tEnd);
        var times = new double[steps + 1];
        times[0] = start;
        times[steps] = tEnd;
        for (int i = 1; i < steps; i++)
        {
            double target = Math.Clamp(a + (b - a) * i / steps, 0, retimed.Tau);
            times[i] = Math.Clamp(retimed.BaseTime(target), tEnd, start);
        }
        for (int i = 0; i < steps; i++)
        {
            if (!(times[i + 1] < times[i]))
                throw new ArgumentException(
                    $"The equal-length grid is not strictly decreasing at step {i} (times {times[i]} and {times[i + 1]}): the speed is zero over that step.",
                    nameof(speed));
        }
        times = TimeGrid.FromTimes(schedule, times);
        double unit = retimed.Speed;
        double total = (a - b) * unit, uniform = 0, equal = 0;
        for (int i = 0; i < steps; i++)
        {
            double hi = start + (tEnd - start) * i / steps, lo = i + 1 == steps ? tEnd : start + (tEnd - start) * (i + 1) / steps;
            double dl = (Forward(hi) - Forward(lo)) * unit;
            uniform += dl * dl;
            double de = (Forward(times[i]) - Forward(times[i + 1])) * unit;
            equal += de * de;
        }
        return new EqualLengthGrid(times, total, steps * uniform, steps * equal);
    }

    /// <summary>
    /// Knots 0, then steps growing geometrically (ratio 1.5) from KnotCutoff end up to the uniform width
    /// end / (2 middleIntervals), uniform in the middle, and the mirror image toward end.
    /// </summary>
    private static double[] Knots(double end, int middleIntervals)
    {
        double width = end / (2.0 * middleIntervals);
        var left = new List<double> { 0 };
        for (double e = KnotCutoff * end; e < 0.5 * end; e += Math.Min(0.5 * e, width)) left.Add(e);
        if (0.5 * end - left[^1] < 0.25 * width) left.RemoveAt(left.Count - 1);
        var knots = new List<double>(2 * left.Count + 1);
        knots.AddRange(left);
        knots.Add(0.5 * end);
        for (int i = left.Count - 1; i >= 0; i--) knots.Add(end - left[i]);
        return knots.ToArray();
    }

    private static double Evaluate(Func<double, double> speed, double t)
    {
        double v = speed(t);
        if (!double.IsFinite(v) || v < 0)
            throw new ArgumentException($"The speed must be finite and non-negative, but speed({t}) = {v}.", nameof(speed));
        return v;
    }
}
