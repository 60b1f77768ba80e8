namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>The diffusion-time trade-off table and its best horizon (see <see cref="DiffusionTimeTradeoff"/>).</summary>
/// <param name="Points">One row per requested horizon, in increasing T.</param>
/// <param name="BestHorizon">T*, the horizon with the smallest <see cref="DiffusionTimeTradeoffPoint.Total"/> (the
/// largest such T on ties).</param>
public sealed record DiffusionTimeTradeoffResult(IReadOnlyList<DiffusionTimeTradeoffPoint> Points, double BestHorizon);
