namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// A (model) score s(x, t) ~ grad ln P_t(x) evaluated on a batch of rows at one time t.
/// </summary>
/// <param name="x">Rows, row-major.</param>
/// <param name="t">The diffusion time.</param>
/// <param name="score">Destination, same length as <paramref name="x"/>.</param>
public delegate void ScoreFunction(ReadOnlySpan<double> x, double t, Span<double> score);
