using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The kinetic cost c2 = integral_0^tau integral |nu_t|^2 P_t dx dt (SPEC section 2) of any schedule under a Gaussian-path
/// metric (<see cref="IGaussianPathMetric"/>), so that cosine, cond-OT, VP and a fitted path
/// (<see cref="GaussianPathGeodesic"/>) can be compared on the same data.
/// </summary>
/// <remarks>
/// At each time the energy is mdot^2 A + 2 mdot sigmadot B + sigmadot^2 C with the coefficients at
/// phi = atan2(sigma_t, m_t). The time integral uses the graded composite Gauss-Legendre rule of the entropy-production
/// integrals on [0, MaxTime], which never evaluates in the end slivers of relative width <c>endCutoff</c>: at t = 0 the
/// angle is 0 (sigma = 0) and sigmadot may be infinite (VP, Gaussian OT) although the energy is finite, and a schedule
/// with m = 0 at tau (cosine, cond-OT, a fitted path) is integrated only up to its MaxTime = tau (1 - its own end
/// cut-off), where m &gt; 0 and a denoiser can still be called. The energy is bounded on such schedules, so the part
/// left out is at most about (endCutoff MaxTime + tau - MaxTime) times the largest energy.
/// </remarks>
public static class GaussianPathKineticCost
{
    /// <summary>The W2 speed v(t) = sqrt(E|nu_t|^2) of <paramref name="schedule"/> under <paramref name="metric"/>, as a
    /// function for re-timing and equal-length grids (<see cref="ScheduleRetiming"/>). The metric is evaluated strictly inside
    /// (0, pi/2): t is kept 1e-6 MaxTime inside [0, MaxTime], where the speed of a schedule with an infinite sigmadot at 0
    /// (VP, Gaussian OT) or with m = 0 at tau is finite.</summary>
    /// <param name="metric">The metric.</param>
    /// <param name="schedule">The schedule.</param>
    /// <returns>v(t) for t in [0, MaxTime].</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static Func<double, double> Speed(IGaussianPathMetric metric, NoiseSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(metric);
        ArgumentNullException.ThrowIfNull(schedule);
        return t =>
        {
            double margin = 1e-6 * schedule.MaxTime, s = Math.Clamp(t, margin, schedule.MaxTime - margin);
            var g = metric.Coefficients(Math.Atan2(schedule.Sigma(s), schedule.M(s)));
            return Math.Sqrt(Math.Max(g.KineticEnergy(schedule.MDot(s), schedule.SigmaDot(s)), 0));
        };
    }

    /// <summary>Computes c2 of <paramref name="schedule"/> over [0, MaxTime] under <paramref name="metric"/>.</summary>
    /// <param name="metric">The metric, evaluated at phi strictly inside (0, pi/2).</param>
    /// <param name="schedule">The schedule.</param>
    /// <param name="endCutoff">Relative width of the two end slivers left out of the time integral, in (0, 0.01].</param>
    /// <returns>c2 &gt;= 0.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="endCutoff"/> is out of range or NaN.</exception>
    /// <exception cref="ArgumentException">The metric returned non-finite coefficients or a negative A or C, or the
    /// schedule a non-finite m, sigma or derivative inside the interval.</exception>
    public static double Compute(IGaussianPathMetric metric, NoiseSchedule schedule, double endCutoff = EntropyProduction.DefaultEndCutoff)
    {
        ArgumentNullException.ThrowIfNull(metric);
        ArgumentNullException.ThrowIfNull(schedule);
        GradedTimeQuadrature.Validate(0, schedule.MaxTime, schedule.MaxTime, endCutoff, schedule.Name);
        var rule = GradedTimeQuadrature.Create(0, schedule.MaxTime, endCutoff);
        double cost = 0;
        for (int i = 0; i < rule.Nodes.Length; i++)
        {
            double t = rule.Nodes[i];
            double m = schedule.M(t), sigma = schedule.Sigma(t), mDot = schedule.MDot(t), sigmaDot = schedule.SigmaDot(t);
            if (!double.IsFinite(m) || !double.IsFinite(sigma) || !double.IsFinite(mDot) || !double.IsFinite(sigmaDot))
                throw new ArgumentException(
                    $"The schedule '{schedule.Name}' returned a non-finite value at t = {t} (m = {m}, sigma = {sigma}, mdot = {mDot}, sigmadot = {sigmaDot}).",
                    nameof(schedule));
            GaussianPathCoefficients g = metric.Coefficients(Math.Atan2(sigma, m));
            if (!g.IsValid)
                throw new ArgumentException(
                    $"The metric returned invalid coefficients (A = {g.A}, B = {g.B}, C = {g.C}) at t = {t}: they must be finite with A, C >= 0.",
                    nameof(metric));
            cost += rule.Weights[i] * Math.Max(g.KineticEnergy(mDot, sigmaDot), 0);
        }
        return cost;
    }
}
