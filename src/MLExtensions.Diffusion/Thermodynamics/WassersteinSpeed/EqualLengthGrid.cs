namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// An N-step sampler time grid with equal (thermodynamic or W2) length per step, and the discrete cost
/// N sum_i (Delta L_i)^2 of it and of the uniform grid (see <see cref="ScheduleRetiming.EqualLengthSteps"/>).
/// </summary>
/// <param name="Times">steps + 1 strictly decreasing times from tStart to tEnd (the sampler convention of TimeGrid).</param>
/// <param name="Length">The length L between tEnd and tStart.</param>
/// <param name="UniformGridCost">N sum_i (Delta L_i)^2 for the grid uniform in t: the thermodynamic divergence of the
/// discrete protocol (Crooks, Phys. Rev. Lett. 99, 100602 (2007); Sivak, Crooks, PRL 108, 190602 (2012)); &gt;= L^2.</param>
/// <param name="EqualLengthCost">The same for <paramref name="Times"/>: L^2, the minimum over all N-step grids.</param>
public sealed record EqualLengthGrid(
    double[] Times,
    double Length,
    double UniformGridCost,
    double EqualLengthCost);
