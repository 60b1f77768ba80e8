using System.Buffers;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Samplers;

/// <summary>
/// DPM-Solver++(2M), the second-order multistep data-prediction solver of Lu et al., arXiv:2211.01095, Algorithm 2
/// (SPEC section 5). With lambda = ln(m / sigma), h_i = lambda_i - lambda_{i-1}, r = h_{i-1} / h_i,
/// <code>D = (1 + 1/(2r)) x0hat_{i-1} - (1/(2r)) x0hat_{i-2},   x_i = (sigma_i / sigma_{i-1}) x_{i-1} - m_i (e^{-h_i} - 1) D,</code>
/// and D = x0hat_{i-1} (a DDIM step) on the first step.
/// </summary>
/// <remarks>
/// <para>Final step to sigma_i = 0: lambda_i = +infinity, h_i = +infinity and r = 0, so the multistep combination is
/// undefined; the limit of the first-order update is taken instead, x_i = m_i x0hat_{i-1} (as k-diffusion does). The
/// local error of that step is O(sigma_{i-1}^2), so the method stays second order on grids ending at sigma = 0.</para>
/// <para>One network call per step: N calls for N steps. Deterministic: the random source is ignored.</para>
/// </remarks>
public sealed class DpmSolverPlusPlus2M : ISampler
{
    /// <inheritdoc />
    public string Name => "dpm-solver++2m";

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
            Span<double> x0 = buffer.AsSpan(0, n), x0Previous = buffer.AsSpan(n, n);
            int steps = times.Length - 1;
            double hPrevious = 0;
            for (int i = 0; i < steps; i++)
            {
                double t = times[i], s = times[i + 1];
                double mT = schedule.M(t), sigmaT = schedule.Sigma(t), mS = schedule.M(s), sigmaS = schedule.Sigma(s);
                denoiser.Denoise(x, mT, sigmaT, x0);
                if (sigmaS == 0)
                {
                    for (int j = 0; j < n; j++) x[j] = mS * x0[j];
                }
                else
                {
                    double h = schedule.LogSnr(s) - schedule.LogSnr(t);
                    double ratio = sigmaS / sigmaT, phi = mS * (1 - Math.Exp(-h));
                    if (i == 0)
                    {
                        for (int j = 0; j < n; j++) x[j] = ratio * x[j] + phi * x0[j];
                    }
                    else
                    {
                        double r = hPrevious / h, b = 1 / (2 * r), a = 1 + b;
                        for (int j = 0; j < n; j++) x[j] = ratio * x[j] + phi * (a * x0[j] - b * x0Previous[j]);
                    }
                    hPrevious = h;
                }
                x0.CopyTo(x0Previous);
            }
            return new SamplerResult(steps, steps);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }
}
