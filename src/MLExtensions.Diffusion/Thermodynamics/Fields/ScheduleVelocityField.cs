using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The mean local velocity of a Gaussian conditional path: nu_t(x) = mdot E[y | x] + sigmadot E[eps | x]
/// = (mdot / m) x - T_t s_t(x) (SPEC section 1), with E[y | x] from a denoiser.
/// </summary>
/// <remarks>
/// Defined for t in (0, EndTime]: at t = 0 (sigma = 0) E[eps | x] is undefined. The conversion itself lives in
/// <see cref="PredictionConversions.VelocityFromX0"/>. Thread-safe when the denoiser is.
/// </remarks>
public sealed class ScheduleVelocityField : IVelocityField
{
    /// <summary>Creates the velocity field of <paramref name="schedule"/> with the posterior mean from <paramref name="denoiser"/>.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public ScheduleVelocityField(NoiseSchedule schedule, IDenoiser denoiser)
    {
        Schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));
        Denoiser = denoiser ?? throw new ArgumentNullException(nameof(denoiser));
    }

    /// <summary>The (m, sigma) path.</summary>
    public NoiseSchedule Schedule { get; }

    /// <summary>The denoiser that supplies E[y | x].</summary>
    public IDenoiser Denoiser { get; }

    /// <inheritdoc />
    public int Dimension => Denoiser.Dimension;

    /// <inheritdoc />
    public double EndTime => Schedule.MaxTime;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not in (0, EndTime].</exception>
    public void Velocity(ReadOnlySpan<double> x, double t, Span<double> velocity)
    {
        if (!(t > 0 && t <= EndTime))
            throw new ArgumentOutOfRangeException(nameof(t), t, $"The time must lie in (0, {EndTime}]: the velocity of a Gaussian path is undefined at sigma = 0.");
        if (velocity.Length != x.Length)
            throw new ArgumentException($"The destination length {velocity.Length} differs from the input length {x.Length}.", nameof(velocity));
        double m = Schedule.M(t), sigma = Schedule.Sigma(t);
        Denoiser.Denoise(x, m, sigma, velocity);
        PredictionConversions.VelocityFromX0(x, velocity, m, sigma, Schedule.MDot(t), Schedule.SigmaDot(t), velocity);
    }
}
