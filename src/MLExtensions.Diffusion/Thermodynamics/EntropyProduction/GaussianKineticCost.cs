using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The exact kinetic energy T_t Sdot(t) = E|nu_t|^2 and kinetic cost c2 = integral E|nu_t|^2 dt (SPEC section 2) of
/// d-dimensional Gaussian data N(mu, Sigma) under any <see cref="NoiseSchedule"/>.
/// </summary>
/// <remarks>
/// <para>Derivation. The marginal is P_t = N(m mu, C_t), C_t = m^2 Sigma + sigma^2 I, with score -C_t^-1 (x - m mu), so the
/// mean local velocity nu_t = (mdot / m) x - T_t grad ln P_t (SPEC section 1) is linear:
/// nu_t(x) = mdot mu + [(mdot / m) I + T_t C_t^-1] (x - m mu). In the eigenbasis of Sigma (eigenvalues lambda_i) the
/// matrix has entries a_i = mdot / m + T_t / c_i, c_i = m^2 lambda_i + sigma^2, and with T_t = sigma sigmadot - sigma^2 mdot / m
/// one gets a_i c_i = m mdot lambda_i + sigma sigmadot = sqrt(c_i) d/dt sqrt(c_i). Hence</para>
/// <para>E|nu_t|^2 = mdot^2 |mu|^2 + sum_i a_i^2 c_i = mdot^2 |mu|^2 + sum_i (m mdot lambda_i + sigma sigmadot)^2 / (m^2 lambda_i + sigma^2)
/// = mdot^2 |mu|^2 + sum_i (d/dt sqrt(m^2 lambda_i + sigma^2))^2.</para>
/// <para>nu_t is a symmetric linear (gradient) field, so this also equals v2(t)^2 (<see cref="WassersteinSpeed.Gaussian"/>).
/// sigma sigmadot is taken as T_t + sigma^2 DriftRate, finite at sigma = 0 even where sigmadot is not (Gaussian OT, VP).
/// The time integral uses the graded 8-point Gauss-Legendre rule of <see cref="EntropyProduction.Integrate"/> (interior
/// nodes only; end slivers of relative width <c>endCutoff</c> left out). For the Gaussian OT schedule of the data the
/// kinetic energy is the constant W2(q, N(0, I))^2 / tau^2, so c2 over [0, tau] is W2^2 / tau.</para>
/// </remarks>
public static class GaussianKineticCost
{
    /// <summary>The kinetic energy E|nu_t|^2 = T_t Sdot(t) at time t (see remarks).</summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="mean">The data mean mu, length d &gt;= 1; finite.</param>
    /// <param name="covariance">The data covariance Sigma, row-major d x d, symmetric positive definite.</param>
    /// <param name="t">Time in [0, MaxTime].</param>
    /// <returns>E|nu_t|^2 &gt;= 0.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="mean"/> is empty or not finite, or <paramref name="covariance"/> is
    /// mis-sized, not finite, not symmetric or not positive definite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, MaxTime].</exception>
    public static double KineticEnergy(NoiseSchedule schedule, ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance, double t)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var (meanSquared, lambda) = Read(mean, covariance);
        if (!(t >= 0 && t <= schedule.MaxTime))
            throw new ArgumentOutOfRangeException(nameof(t), t, $"'t' must lie in [0, {schedule.MaxTime}] (MaxTime of '{schedule.Name}').");
        return Energy(schedule, meanSquared, lambda, t);
    }

    /// <summary>The kinetic cost c2 = integral_tStart^tEnd E|nu_t|^2 dt (see remarks).</summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="mean">The data mean mu, length d &gt;= 1; finite.</param>
    /// <param name="covariance">The data covariance Sigma, row-major d x d, symmetric positive definite.</param>
    /// <param name="tStart">Start of the interval, in [0, MaxTime).</param>
    /// <param name="tEnd">End of the interval, in (tStart, MaxTime]; defaults to <see cref="NoiseSchedule.MaxTime"/>.</param>
    /// <param name="endCutoff">Relative width of the end slivers left out, in (0, 0.01].</param>
    /// <returns>c2 &gt;= 0.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="mean"/> is empty or not finite, or <paramref name="covariance"/> is
    /// mis-sized, not finite, not symmetric or not positive definite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The interval or the cut-off is out of range or NaN.</exception>
    public static double Compute(NoiseSchedule schedule, ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance,
        double tStart = 0, double? tEnd = null, double endCutoff = EntropyProduction.DefaultEndCutoff)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var (meanSquared, lambda) = Read(mean, covariance);
        double end = tEnd ?? schedule.MaxTime;
        GradedTimeQuadrature.Validate(tStart, end, schedule.MaxTime, endCutoff, schedule.Name);
        var rule = GradedTimeQuadrature.Create(tStart, end, endCutoff);
        double c2 = 0;
        for (int k = 0; k < rule.Nodes.Length; k++) c2 += rule.Weights[k] * Energy(schedule, meanSquared, lambda, rule.Nodes[k]);
        return c2;
    }

    private static (double MeanSquared, double[] Eigenvalues) Read(ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance)
    {
        int d = mean.Length;
        if (d == 0) throw new ArgumentException("'mean' must not be empty.", nameof(mean));
        ScheduleValidation.RequireAllFinite(mean, nameof(mean));
        var (_, eigen) = SymmetricPositiveMatrix.Read(covariance, d, nameof(covariance), requirePositiveDefinite: true);
        var lambda = new double[d];
        for (int i = 0; i < d; i++) lambda[i] = eigen.EigenValues[i].Real;
        double meanSquared = 0;
        foreach (double v in mean) meanSquared += v * v;
        return (meanSquared, lambda);
    }

    private static double Energy(NoiseSchedule schedule, double meanSquared, double[] lambda, double t)
    {
        double m = schedule.M(t), sigma = schedule.Sigma(t), mDot = schedule.MDot(t);
        double sigmaSigmaDot = schedule.Temperature(t) + sigma * sigma * schedule.DriftRate(t);
        double energy = mDot * mDot * meanSquared;
        foreach (double l in lambda)
        {
            double numerator = m * mDot * l + sigmaSigmaDot;
            energy += numerator * numerator / (m * m * l + sigma * sigma);
        }
        return energy;
    }
}
