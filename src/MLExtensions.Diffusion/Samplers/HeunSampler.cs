using System.Buffers;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Samplers;

/// <summary>
/// Heun's second-order method on the probability-flow ODE dx/dt = nu_t(x) = mdot x0hat + sigmadot epshat
/// (EDM Algorithm 1): an Euler predictor x' = x_i + h nu_{t_i}(x_i), then the trapezoidal corrector
/// x_{i+1} = x_i + h/2 (nu_{t_i}(x_i) + nu_{t_{i+1}}(x')), skipped when sigma_{t_{i+1}} = 0 (the velocity is not defined
/// there and the step is left as the Euler predictor).
/// </summary>
/// <remarks>Karras et al., arXiv:2206.00364, Algorithm 1, in the schedule's clock t. Cost: two network calls per step,
/// one for a final step to sigma = 0, so 2N - 1 or 2N for N steps. Deterministic: the random source is ignored.</remarks>
public sealed class HeunSampler : ISampler
{
    /// <inheritdoc />
    public string Name => "heun";

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException"><paramref name="denoiser"/> or <paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentException">The times are fewer than two, not finite, not strictly decreasing or outside
    /// [0, schedule.MaxTime]; or <paramref name="x"/> is empty, not finite, or not a multiple of the denoiser dimension.</exception>
    public SamplerResult Sample(IDenoiser denoiser, NoiseSchedule schedule, ReadOnlySpan<double> times, Span<double> x, Random? random = null)
    {
        SamplerArguments.Check(denoiser, schedule, times, x);
        int n = x.Length;
        double[] buffer = ArrayPool<double>.Shared.Rent(4 * n);
        try
        {
            Span<double> x0 = buffer.AsSpan(0, n), v0 = buffer.AsSpan(n, n), xp = buffer.AsSpan(2 * n, n), v1 = buffer.AsSpan(3 * n, n);
            int steps = times.Length - 1, nfe = 0;
            for (int i = 0; i < steps; i++)
            {
                double t = times[i], tn = times[i + 1], h = tn - t;
                DenoiserEvaluation.Velocity(denoiser, x, schedule.M(t), schedule.Sigma(t), schedule.MDot(t), schedule.SigmaDot(t), x0, v0);
                nfe++;
                double sn = schedule.Sigma(tn);
                if (sn == 0)
                {
                    for (int j = 0; j < n; j++) x[j] += h * v0[j];
                    continue;
                }
                for (int j = 0; j < n; j++) xp[j] = x[j] + h * v0[j];
                DenoiserEvaluation.Velocity(denoiser, xp, schedule.M(tn), sn, schedule.MDot(tn), schedule.SigmaDot(tn), x0, v1);
                nfe++;
                double half = 0.5 * h;
                for (int j = 0; j < n; j++) x[j] += half * (v0[j] + v1[j]);
            }
            return new SamplerResult(nfe, steps);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }
}
