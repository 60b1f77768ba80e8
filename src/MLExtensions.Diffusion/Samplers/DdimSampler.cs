using System.Buffers;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Samplers;

/// <summary>
/// DDIM (Song, Meng, Ermon, arXiv:2010.02502) for a general (m, sigma) path, with stochasticity eta in [0, 1]:
/// from (t, x) to the next time s,
/// <code>x_s = m_s x0hat + sqrt(sigma_s^2 - c^2) epshat + c z,   c = eta sigma_s sqrt(1 - (m_t sigma_s / (m_s sigma_t))^2),   z ~ N(0, I).</code>
/// eta = 0 is deterministic (the first-order exponential integrator of the probability-flow ODE in lambda);
/// eta = 1 draws from the exact Gaussian posterior q(x_s | x_t, y = x0hat).
/// </summary>
/// <remarks>
/// <para>Derivation of c. The path is the marginal of the Markov chain x_t = a x_s + sqrt(sigma_t^2 - a^2 sigma_s^2) w with
/// a = m_t / m_s. Its posterior q(x_s | x_t, y) has variance
/// sigma_s^2 (sigma_t^2 - a^2 sigma_s^2) / sigma_t^2 = sigma_s^2 (1 - (m_t sigma_s / (m_s sigma_t))^2), and DDIM's
/// sigma_t(eta) is eta times its square root. This is real exactly when sigma/m is non-decreasing (T_t &gt;= 0).
/// For a VP path (m^2 + sigma^2 = 1, m^2 = abar) it equals the DDIM paper's
/// eta sqrt((1 - abar_s)/(1 - abar_t)) sqrt(1 - abar_t/abar_s): indeed
/// sigma_s^2 - m_t^2 sigma_s^4 / (m_s^2 sigma_t^2) = (sigma_s^2 / sigma_t^2)(sigma_t^2 - m_t^2 sigma_s^2 / m_s^2)
/// and, with sigma^2 = 1 - m^2, sigma_t^2 - m_t^2 (1 - m_s^2)/m_s^2 = 1 - m_t^2 / m_s^2.</para>
/// <para>One network call per step. A step to sigma_s = 0 returns m_s x0hat and draws nothing.</para>
/// </remarks>
public sealed class DdimSampler : ISampler
{
    /// <summary>Creates a DDIM sampler.</summary>
    /// <param name="eta">Stochasticity in [0, 1]: 0 deterministic, 1 ancestral posterior sampling.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="eta"/> is not in [0, 1].</exception>
    public DdimSampler(double eta = 0)
    {
        if (!(eta >= 0 && eta <= 1))
            throw new ArgumentOutOfRangeException(nameof(eta), eta, "DDIM's eta must lie in [0, 1].");
        Eta = eta;
    }

    /// <summary>The stochasticity eta in [0, 1].</summary>
    public double Eta { get; }

    /// <inheritdoc />
    public string Name => Eta == 0 ? "ddim" : $"ddim(eta={Eta})";

    /// <summary>The DDIM noise scale c = eta sigma_s sqrt(1 - (m_t sigma_s / (m_s sigma_t))^2) of a step t -&gt; s.</summary>
    /// <param name="eta">Stochasticity.</param>
    /// <param name="mT">m at the current time t.</param>
    /// <param name="sigmaT">sigma at the current time t (positive).</param>
    /// <param name="mS">m at the next time s.</param>
    /// <param name="sigmaS">sigma at the next time s.</param>
    internal static double NoiseScale(double eta, double mT, double sigmaT, double mS, double sigmaS)
    {
        if (eta == 0 || sigmaS == 0) return 0;
        double ratio = mT * sigmaS / (mS * sigmaT);
        return eta * sigmaS * Math.Sqrt(Math.Max(0, 1 - ratio * ratio));
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException"><paramref name="denoiser"/> or <paramref name="schedule"/> is null, or
    /// <paramref name="random"/> is null while eta &gt; 0.</exception>
    /// <exception cref="ArgumentException">The times are fewer than two, not finite, not strictly decreasing or outside
    /// [0, schedule.MaxTime]; or <paramref name="x"/> is empty, not finite, or not a multiple of the denoiser dimension.</exception>
    public SamplerResult Sample(IDenoiser denoiser, NoiseSchedule schedule, ReadOnlySpan<double> times, Span<double> x, Random? random = null)
    {
        SamplerArguments.Check(denoiser, schedule, times, x);
        Random? rng = Eta > 0 ? SamplerArguments.CheckRandom(random) : null;
        int n = x.Length;
        double[] buffer = ArrayPool<double>.Shared.Rent(3 * n);
        try
        {
            Span<double> x0 = buffer.AsSpan(0, n), eps = buffer.AsSpan(n, n), z = buffer.AsSpan(2 * n, n);
            int steps = times.Length - 1;
            for (int i = 0; i < steps; i++)
            {
                double t = times[i], s = times[i + 1];
                double mT = schedule.M(t), sigmaT = schedule.Sigma(t), mS = schedule.M(s), sigmaS = schedule.Sigma(s);
                DenoiserEvaluation.Evaluate(denoiser, x, mT, sigmaT, x0, eps);
                double c = NoiseScale(Eta, mT, sigmaT, mS, sigmaS);
                double a = Math.Sqrt(Math.Max(0, sigmaS * sigmaS - c * c));
                if (c > 0)
                {
                    StandardNormal.Fill(rng!, z);
                    for (int j = 0; j < n; j++) x[j] = mS * x0[j] + a * eps[j] + c * z[j];
                }
                else
                {
                    for (int j = 0; j < n; j++) x[j] = mS * x0[j] + a * eps[j];
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
