using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Samplers;

/// <summary>
/// A reverse-time solver: <c>Sample(denoiser, schedule, times, x)</c> moves rows from times[0] down to times[^1]
/// in place (SPEC section 5). Solvers know nothing about how the denoiser was parametrised.
/// </summary>
public interface ISampler
{
    /// <summary>A short name such as "heun" or "dpm-solver++2m".</summary>
    string Name { get; }

    /// <summary>Integrates the rows of <paramref name="x"/> backwards along <paramref name="times"/>.</summary>
    /// <param name="denoiser">Returns x0hat for given (m, sigma).</param>
    /// <param name="schedule">The (m, sigma) path.</param>
    /// <param name="times">Strictly decreasing times, at least two, within [0, schedule.MaxTime].</param>
    /// <param name="x">Rows at times[0] on entry (row-major), rows at times[^1] on return.</param>
    /// <param name="random">Noise source for stochastic samplers; ignored by deterministic ones (may be null for them).</param>
    /// <returns>The number of network function evaluations used, and the step count.</returns>
    SamplerResult Sample(IDenoiser denoiser, NoiseSchedule schedule, ReadOnlySpan<double> times, Span<double> x, Random? random = null);
}

/// <summary>What a sampler run cost.</summary>
/// <param name="Nfe">Network function evaluations (denoiser calls over the batch).</param>
/// <param name="Steps">Solver steps taken.</param>
public readonly record struct SamplerResult(int Nfe, int Steps);
