using System.Buffers;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Samplers;

/// <summary>
/// The accelerated deterministic sampler of Li, Huang, Efimov, Wei, Chi, Chen (arXiv:2403.03852) on the discrete chain of
/// a <see cref="DiscreteBetaSchedule"/> (SPEC section 5): a DDIM step plus a multistep correction,
/// <code>x_{t-1} = sqrt(abar_{t-1}) x0hat_t + sqrt(1 - abar_{t-1}) eps_t + C_t (eps_{t+1}(x_{t+1}) - eps_t(x_t)),</code>
/// <code>C_t = sqrt(abar_{t-1}) / (abar_t - abar_{t+1}) [abar_t sqrt(1 - abar_{t-1}) / sqrt(abar_{t-1}) + arcsin sqrt(abar_{t-1})
///       - abar_t sqrt(1 - abar_t) / sqrt(abar_t) - arcsin sqrt(abar_t)],</code>
/// where eps_t = epshat from the denoiser at (sqrt(abar_t), sqrt(1 - abar_t)) and eps_{t+1}(x_{t+1}) is the previous
/// step's evaluation; no correction on the first step.
/// </summary>
/// <remarks>
/// <para>Derivation (why C_t has this form): with xbar = x / sqrt(abar) and g(a) = sqrt((1 - a)/a), the probability-flow
/// ODE is d xbar = eps(a) g'(a) da. Freezing eps gives DDIM; extrapolating eps linearly in abar through eps_t and
/// eps_{t+1} adds C_t (eps_{t+1} - eps_t) with C_t = sqrt(abar_{t-1}) / (abar_{t+1} - abar_t) integral_{abar_t}^{abar_{t-1}}
/// (a - abar_t) g'(a) da, which integrates (by parts, a = sin^2 theta) to the expression above. It is evaluated in the
/// equivalent form abar_t (g_{t-1} - g_t) + atan g_t - atan g_{t-1}, g = sigma / m, to avoid arcsin near 1.</para>
/// <para>Convergence rate 1/T^2 (with accurate scores and Jacobians). One network call per step. The grid must be
/// consecutive integers (T, T - 1, ..., 0, or a run of it). Deterministic: the random source is ignored.</para>
/// </remarks>
public sealed class LiAcceleratedOdeSampler : ISampler
{
    /// <inheritdoc />
    public string Name => "li-accelerated-ode";

    /// <summary>The correction coefficient C_t for t in 1..T-1 (see the type remarks).</summary>
    internal static double Correction(DiscreteBetaSchedule chain, int t)
    {
        double aT = chain.AlphaBar(t), aNext = chain.AlphaBar(t + 1);
        double gPrev = chain.Sigma(t - 1) / chain.M(t - 1), gT = chain.Sigma(t) / chain.M(t);
        double bracket = aT * (gPrev - gT) + Math.Atan(gT) - Math.Atan(gPrev);
        return chain.M(t - 1) / (aT - aNext) * bracket;
    }

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
        double[] buffer = ArrayPool<double>.Shared.Rent(3 * n);
        try
        {
            Span<double> x0 = buffer.AsSpan(0, n), eps = buffer.AsSpan(n, n), epsPrevious = buffer.AsSpan(2 * n, n);
            int steps = times.Length - 1;
            for (int i = 0; i < steps; i++)
            {
                int t = (int)times[i];
                DenoiserEvaluation.Evaluate(denoiser, x, chain.M(t), chain.Sigma(t), x0, eps);
                double mNext = chain.M(t - 1), sNext = chain.Sigma(t - 1);
                if (i == 0)
                {
                    for (int j = 0; j < n; j++) x[j] = mNext * x0[j] + sNext * eps[j];
                }
                else
                {
                    double c = Correction(chain, t);
                    for (int j = 0; j < n; j++) x[j] = mNext * x0[j] + sNext * eps[j] + c * (epsPrevious[j] - eps[j]);
                }
                eps.CopyTo(epsPrevious);
            }
            return new SamplerResult(steps, steps);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }
}
