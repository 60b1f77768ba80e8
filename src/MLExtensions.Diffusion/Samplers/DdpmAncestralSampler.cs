using System.Buffers;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Samplers;

/// <summary>
/// DDPM ancestral sampling for a general (m, sigma) path: each step t -&gt; s draws from the Gaussian posterior
/// q(x_s | x_t, y = x0hat) of the forward Markov chain x_t = a x_s + sqrt(sigma_t^2 - a^2 sigma_s^2) w, a = m_t / m_s:
/// <code>x_s = (a sigma_s^2 / sigma_t^2) x_t + (m_s (sigma_t^2 - a^2 sigma_s^2) / sigma_t^2) x0hat + sqrt(var) z,</code>
/// with var chosen by <see cref="DdpmVariance"/>.
/// </summary>
/// <remarks>
/// <para>Ho, Jain, Abbeel, arXiv:2006.11239, eq. (7) and Algorithm 2. On a VP path the mean is DDPM's
/// mutilde_t(x_t, x0hat) and the variances are betatilde_t or beta_t.</para>
/// <para>A step to sigma_s = 0 returns the posterior mean m_s x0hat and draws no noise (DDPM Algorithm 2 sets z = 0 on its
/// last step). One network call per step.</para>
/// </remarks>
public sealed class DdpmAncestralSampler : ISampler
{
    /// <summary>Creates a DDPM ancestral sampler.</summary>
    /// <param name="variance">The reverse-step variance.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="variance"/> is not a defined value.</exception>
    public DdpmAncestralSampler(DdpmVariance variance = DdpmVariance.BetaTilde)
    {
        if (!Enum.IsDefined(variance))
            throw new ArgumentOutOfRangeException(nameof(variance), variance, "Unknown DDPM variance choice.");
        Variance = variance;
    }

    /// <summary>The reverse-step variance choice.</summary>
    public DdpmVariance Variance { get; }

    /// <inheritdoc />
    public string Name => Variance == DdpmVariance.BetaTilde ? "ddpm" : "ddpm(beta)";

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
        double[] buffer = ArrayPool<double>.Shared.Rent(2 * n);
        try
        {
            Span<double> x0 = buffer.AsSpan(0, n), z = buffer.AsSpan(n, n);
            int steps = times.Length - 1;
            for (int i = 0; i < steps; i++)
            {
                double t = times[i], s = times[i + 1];
                double mT = schedule.M(t), sigmaT = schedule.Sigma(t), mS = schedule.M(s), sigmaS = schedule.Sigma(s);
                denoiser.Denoise(x, mT, sigmaT, x0);
                double a = mT / mS, st2 = sigmaT * sigmaT, ss2 = sigmaS * sigmaS;
                double transition = Math.Max(0, st2 - a * a * ss2);     // forward variance of x_t given x_s
                double cx = a * ss2 / st2, c0 = mS * transition / st2;
                double variance = sigmaS == 0 ? 0
                    : Variance == DdpmVariance.BetaTilde ? ss2 * transition / st2
                    : (mS * mS + ss2) * transition / (mT * mT + st2);
                if (variance > 0)
                {
                    double sd = Math.Sqrt(variance);
                    StandardNormal.Fill(rng, z);
                    for (int j = 0; j < n; j++) x[j] = cx * x[j] + c0 * x0[j] + sd * z[j];
                }
                else
                {
                    for (int j = 0; j < n; j++) x[j] = cx * x[j] + c0 * x0[j];
                }
            }
            return new SamplerResult(steps, steps);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }
}
