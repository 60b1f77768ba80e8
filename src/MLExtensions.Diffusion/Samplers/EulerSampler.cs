using System.Buffers;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Samplers;

/// <summary>
/// Explicit Euler on the probability-flow ODE dx/dt = nu_t(x) = mdot x0hat + sigmadot epshat (SPEC sections 1 and 5):
/// x_{i+1} = x_i + (t_{i+1} - t_i) nu_{t_i}(x_i). First order; one network call per step.
/// </summary>
/// <remarks>Karras et al., "Elucidating the design space of diffusion-based generative models" (EDM), arXiv:2206.00364,
/// written here in the schedule's own clock t rather than in sigma. Deterministic: the random source is ignored.</remarks>
public sealed class EulerSampler : ISampler
{
    /// <inheritdoc />
    public string Name => "euler";

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException"><paramref name="denoiser"/> or <paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentException">The times are fewer than two, not finite, not strictly decreasing or outside
    /// [0, schedule.MaxTime]; or <paramref name="x"/> is empty, not finite, or not a multiple of the denoiser dimension.</exception>
    public SamplerResult Sample(IDenoiser denoiser, NoiseSchedule schedule, ReadOnlySpan<double> times, Span<double> x, Random? random = null)
    {
        SamplerArguments.Check(denoiser, schedule, times, x);
        int n = x.Length;
        double[] buffer = ArrayPool<double>.Shared.Rent(2 * n);
        try
        {
            Span<double> x0 = buffer.AsSpan(0, n), velocity = buffer.AsSpan(n, n);
            int steps = times.Length - 1;
            for (int i = 0; i < steps; i++)
            {
                double t = times[i], h = times[i + 1] - t;
                DenoiserEvaluation.Velocity(denoiser, x, schedule.M(t), schedule.Sigma(t), schedule.MDot(t), schedule.SigmaDot(t), x0, velocity);
                for (int j = 0; j < n; j++) x[j] += h * velocity[j];
            }
            return new SamplerResult(steps, steps);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }
}
