using System.Buffers;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Samplers;

/// <summary>
/// The accelerated stochastic sampler of Li, Huang, Efimov, Wei, Chi, Chen (arXiv:2403.03852) on the discrete chain of a
/// <see cref="DiscreteBetaSchedule"/> (SPEC section 5): with Z, Z' ~ N(0, I) independent,
/// <code>Y+ = Y_t + sqrt((1 - alpha_t)/2) Z,   Y_{t-1} = (Y+ + (1 - alpha_t) s_t(Y+)) / sqrt(alpha_t) + sqrt((1 - alpha_t)/2) Z',</code>
/// s_t = -epshat / sigma_t from the denoiser at (sqrt(abar_t), sqrt(1 - abar_t)).
/// </summary>
/// <remarks>Convergence rate 1/T (in KL, with accurate scores and Hessians). One network call per step; each step draws
/// Z then Z' (2 n normals). The grid must be consecutive integers (T, T - 1, ..., 0, or a run of it).</remarks>
public sealed class LiAcceleratedSdeSampler : ISampler
{
    /// <inheritdoc />
    public string Name => "li-accelerated-sde";

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException"><paramref name="denoiser"/> or <paramref name="schedule"/> is null, or <paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="schedule"/> is not a <see cref="DiscreteBetaSchedule"/>; the times
    /// are not consecutive decreasing integers in [0, T] (at least two); or <paramref name="x"/> is empty, not finite, or not
    /// a multiple of the denoiser dimension.</exception>
    public SamplerResult Sample(IDenoiser denoiser, NoiseSchedule schedule, ReadOnlySpan<double> times, Span<double> x, Random? random = null)
    {
        SamplerArguments.Check(denoiser, schedule, times, x);
        DiscreteBetaSchedule chain = SamplerArguments.CheckChain(schedule, times);
        Random rng = SamplerArguments.CheckRandom(random);
        int n = x.Length;
        double[] buffer = ArrayPool<double>.Shared.Rent(4 * n);
        try
        {
            Span<double> x0 = buffer.AsSpan(0, n), score = buffer.AsSpan(n, n), z = buffer.AsSpan(2 * n, 2 * n);
            int steps = times.Length - 1;
            for (int i = 0; i < steps; i++)
            {
                int t = (int)times[i];
                double beta = chain.Beta(t), scale = 1 / Math.Sqrt(1 - beta), noise = Math.Sqrt(0.5 * beta);
                StandardNormal.Fill(rng, z);
                for (int j = 0; j < n; j++) x[j] += noise * z[j];
                DenoiserEvaluation.Score(denoiser, x, chain.M(t), chain.Sigma(t), x0, score);
                for (int j = 0; j < n; j++) x[j] = (x[j] + beta * score[j]) * scale + noise * z[n + j];
            }
            return new SamplerResult(steps, steps);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }
}
