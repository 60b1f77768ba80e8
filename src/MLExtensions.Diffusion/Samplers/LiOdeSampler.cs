using System.Buffers;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Samplers;

/// <summary>
/// The deterministic (probability-flow) sampler of Li, Wei, Chen, Chi (arXiv:2306.09251) on the discrete chain of a
/// <see cref="DiscreteBetaSchedule"/>: Y_{t-1} = (Y_t + (1 - alpha_t)/2 s_t(Y_t)) / sqrt(alpha_t), t = T..1 (SPEC section 5),
/// with the score s_t = -epshat / sigma_t from the denoiser at (m_t, sigma_t) = (sqrt(abar_t), sqrt(1 - abar_t)).
/// </summary>
/// <remarks>Convergence rate 1/T (in TV, with accurate scores). One network call per step. The grid must be
/// consecutive integers (T, T - 1, ..., 0, or a run of it). Deterministic: the random source is ignored.</remarks>
public sealed class LiOdeSampler : ISampler
{
    /// <inheritdoc />
    public string Name => "li-ode";

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException"><paramref name="denoiser"/> or <paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="schedule"/> is not a <see cref="DiscreteBetaSchedule"/>; the times
    /// are not consecutive decreasing integers in [0, T] (at least two); or <paramref name="x"/> is empty, not finite, or not
    /// a multiple of the denoiser dimension.</exception>
    public SamplerResult Sample(IDenoiser denoiser, NoiseSchedule schedule, ReadOnlySpan<double> times, Span<double> x, Random? random = null)
    {
        SamplerArguments.Check(denoiser, schedule, times, x);
        DiscreteBetaSchedule chain = SamplerArguments.CheckChain(schedule, times);
        int n = x.Length;
        double[] buffer = ArrayPool<double>.Shared.Rent(2 * n);
        try
        {
            Span<double> x0 = buffer.AsSpan(0, n), score = buffer.AsSpan(n, n);
            int steps = times.Length - 1;
            for (int i = 0; i < steps; i++)
            {
                int t = (int)times[i];
                double beta = chain.Beta(t), scale = 1 / Math.Sqrt(1 - beta), half = 0.5 * beta;
                DenoiserEvaluation.Score(denoiser, x, chain.M(t), chain.Sigma(t), x0, score);
                for (int j = 0; j < n; j++) x[j] = (x[j] + half * score[j]) * scale;
            }
            return new SamplerResult(steps, steps);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }
}
