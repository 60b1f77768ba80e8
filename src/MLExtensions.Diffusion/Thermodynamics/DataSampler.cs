namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// Draws independent data rows y ~ q into <paramref name="destination"/> (row-major, a whole number of rows).
/// </summary>
/// <param name="random">The random source to draw from; a seeded one makes the draws reproducible.</param>
/// <param name="destination">The rows to fill.</param>
public delegate void DataSampler(Random random, Span<double> destination);
