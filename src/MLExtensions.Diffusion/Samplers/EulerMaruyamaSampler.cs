using System.Buffers;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Samplers;

/// <summary>
/// Euler-Maruyama on the reverse-time SDE of the forward Langevin process dx = f_t(x) dt + sqrt(2 T_t) dB (SPEC section 1):
/// <code>dx = [f_t(x) - 2 T_t s_t(x)] dt + sqrt(2 T_t) dB,  run from t = times[0] down,</code>
/// with f_t(x) = (d/dt ln m) x (<see cref="NoiseSchedule.DriftRate"/>), T_t = <see cref="NoiseSchedule.Temperature"/> and
/// the score s_t = -epshat / sigma. A step from t to s = t - h (h &gt; 0) is
/// x_s = x_t - h [f_t(x_t) - 2 T_t s_t(x_t)] + sqrt(2 T_t h) z, z ~ N(0, I).
/// </summary>
/// <remarks>
/// <para>Anderson, "Reverse-time diffusion equation models", Stoch. Proc. Appl. 12 (1982); Song et al., arXiv:2011.13456.
/// Strong order 1/2, weak order 1; one network call per step. Every step, including the last, draws noise (plain
/// Euler-Maruyama; no final denoising step).</para>
/// <para>The scheme is explicit: where |d ln m / dt| is large (cosine or cond-OT near their singular end) it needs
/// steps h much smaller than m / |mdot|.</para>
/// </remarks>
public sealed class EulerMaruyamaSampler : ISampler
{
    /// <inheritdoc />
    public string Name => "euler-maruyama";

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException"><paramref name="denoiser"/>, <paramref name="schedule"/> or
    /// <paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException">The times are fewer than two, not finite, not strictly decreasing or outside
    /// [0, schedule.MaxTime]; or <paramref name="x"/> is empty, not finite, or not a multiple of the denoiser dimension.</exception>
    public SamplerResult Sample(IDenoiser denoiser, NoiseSchedule schedule, ReadOnlySpan<double> times, Span<double> x, Random? random = null)
    {
        SamplerArguments.Check(denoiser, schedule, times, x);
        Random rng = SamplerArguments.CheckRandom(random);
        int n = x.Length;
        double[] buffer = ArrayPool<double>.Shared.Rent(3 * n);
        try
        {
            Span<double> x0 = buffer.AsSpan(0, n), score = buffer.AsSpan(n, n), z = buffer.AsSpan(2 * n, n);
            int steps = times.Length - 1;
            for (int i = 0; i < steps; i++)
            {
                double t = times[i], h = t - times[i + 1];
                DenoiserEvaluation.Score(denoiser, x, schedule.M(t), schedule.Sigma(t), x0, score);
                double f = schedule.DriftRate(t), temperature = schedule.Temperature(t);
                double noise = Math.Sqrt(2 * Math.Max(0, temperature) * h), twoT = 2 * temperature;
                StandardNormal.Fill(rng, z);
                for (int j = 0; j < n; j++)
                    x[j] += -h * (f * x[j] - twoT * score[j]) + noise * z[j];
            }
            return new SamplerResult(steps, steps);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }
}
