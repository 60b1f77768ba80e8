using System.Buffers;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// Per-row thermodynamics of a generated path: integrates the probability-flow ODE dx/dt = nu_t(x) with Heun's method
/// (the steps of <see cref="HeunSampler"/>, EDM Algorithm 1) and accumulates along each row's own trajectory its kinetic
/// action A = integral |nu_t(x_t)|^2 dt and its entropy produced S = integral |nu_t(x_t)|^2 / T_t dt, both over the
/// integrated time span (positive; the path is run backwards in t).
/// </summary>
/// <remarks>
/// <para>Quadrature. A Heun step from t_i to t_{i+1} (h = t_{i+1} - t_i &lt; 0) evaluates nu at (x_i, t_i) and at the
/// Euler predictor (x', t_{i+1}); the integrands use the same two stages with the trapezoidal rule,
/// |h| (f(x_i, t_i) + f(x', t_{i+1})) / 2, so the quadrature has the order of the solver. A final step to sigma = 0 is an
/// Euler step (the velocity is undefined there), and its integrands use the left point: |h| f(x_i, t_i). T_t is
/// <see cref="NoiseSchedule.Temperature"/> (T = m sigma d/dt(sigma/m), SPEC section 1), positive wherever sigma &gt; 0.</para>
/// <para>Units: those of the rows and the denoiser (standardised units z for a <c>DiffusionModel</c>); A has units
/// z^2 / time, S units z^2 / (time x temperature), as in <see cref="EntropyProduction"/>, whose ensemble averages of
/// |nu|^2 and |nu|^2 / T these are per-trajectory versions of (Premkumar, "Neural entropy", 2024; the kinetic energy of
/// the probability flow, Benamou-Brenier).</para>
/// <para>The rows end where <see cref="HeunSampler"/> would leave them on the same grid (same arithmetic). Scratch is
/// rented once per call; nothing is allocated per step. Thread-safe when the denoiser is.</para>
/// </remarks>
public static class PathThermodynamics
{
    /// <summary>
    /// Runs Heun's method over <paramref name="times"/> in place on <paramref name="x"/> and adds each row's kinetic
    /// action and entropy produced to <paramref name="kineticAction"/> and <paramref name="entropyProduced"/>.
    /// </summary>
    /// <param name="denoiser">The posterior mean E[y | x].</param>
    /// <param name="schedule">The (m, sigma) path.</param>
    /// <param name="times">Strictly decreasing times in [0, schedule.MaxTime]; sigma &gt; 0 at all but the last.</param>
    /// <param name="x">Rows at times[0], row-major; moved to times[^1].</param>
    /// <param name="kineticAction">One value per row, overwritten with A of that row.</param>
    /// <param name="entropyProduced">One value per row, overwritten with S of that row.</param>
    /// <returns>The network evaluations and steps (as <see cref="HeunSampler"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="denoiser"/> or <paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentException">The times or rows are invalid (see <see cref="ISampler.Sample"/>), or an
    /// accumulator does not have one value per row.</exception>
    public static SamplerResult IntegrateHeun(IDenoiser denoiser, NoiseSchedule schedule, ReadOnlySpan<double> times, Span<double> x,
        Span<double> kineticAction, Span<double> entropyProduced)
    {
        int rows = SamplerArguments.Check(denoiser, schedule, times, x);
        if (kineticAction.Length != rows)
            throw new ArgumentException($"'{nameof(kineticAction)}' has {kineticAction.Length} values for {rows} rows.", nameof(kineticAction));
        if (entropyProduced.Length != rows)
            throw new ArgumentException($"'{nameof(entropyProduced)}' has {entropyProduced.Length} values for {rows} rows.", nameof(entropyProduced));
        kineticAction.Clear();
        entropyProduced.Clear();
        int n = x.Length, d = denoiser.Dimension;
        double[] buffer = ArrayPool<double>.Shared.Rent(4 * n);
        try
        {
            Span<double> x0 = buffer.AsSpan(0, n), v0 = buffer.AsSpan(n, n), xp = buffer.AsSpan(2 * n, n), v1 = buffer.AsSpan(3 * n, n);
            int steps = times.Length - 1, nfe = 0;
            for (int i = 0; i < steps; i++)
            {
                double t = times[i], tn = times[i + 1], h = tn - t, width = -h;
                Velocity(denoiser, schedule, t, x, x0, v0);
                nfe++;
                double temperature = schedule.Temperature(t);
                double sn = schedule.Sigma(tn);
                if (sn == 0)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        double e = SquaredNorm(v0.Slice(r * d, d));
                        kineticAction[r] += width * e;
                        entropyProduced[r] += width * e / temperature;
                    }
                    for (int j = 0; j < n; j++) x[j] += h * v0[j];
                    continue;
                }
                for (int j = 0; j < n; j++) xp[j] = x[j] + h * v0[j];
                Velocity(denoiser, schedule, tn, xp, x0, v1);
                nfe++;
                double temperatureNext = schedule.Temperature(tn), half = 0.5 * width;
                for (int r = 0; r < rows; r++)
                {
                    double e0 = SquaredNorm(v0.Slice(r * d, d)), e1 = SquaredNorm(v1.Slice(r * d, d));
                    kineticAction[r] += half * (e0 + e1);
                    entropyProduced[r] += half * (e0 / temperature + e1 / temperatureNext);
                }
                for (int j = 0; j < n; j++) x[j] += 0.5 * h * (v0[j] + v1[j]);
            }
            return new SamplerResult(nfe, steps);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }

    private static void Velocity(IDenoiser denoiser, NoiseSchedule schedule, double t, ReadOnlySpan<double> x, Span<double> x0, Span<double> velocity)
    {
        double m = schedule.M(t), sigma = schedule.Sigma(t);
        denoiser.Denoise(x, m, sigma, x0);
        PredictionConversions.VelocityFromX0(x, x0, m, sigma, schedule.MDot(t), schedule.SigmaDot(t), velocity);
    }

    private static double SquaredNorm(ReadOnlySpan<double> v)
    {
        double s = 0;
        foreach (double value in v) s += value * value;
        return s;
    }
}
