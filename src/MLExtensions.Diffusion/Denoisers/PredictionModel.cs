namespace MLExtensions.Diffusion.Denoisers;

/// <summary>
/// A model evaluated on a batch of noisy rows x = m y + sigma eps at one noise level, writing its prediction (of the kind
/// a <see cref="PredictionDenoiser"/> is told) for every row.
/// </summary>
/// <param name="x">Noisy rows, row-major.</param>
/// <param name="m">Signal scale m.</param>
/// <param name="sigma">Noise scale sigma.</param>
/// <param name="prediction">Destination, same length as <paramref name="x"/>.</param>
public delegate void PredictionModel(ReadOnlySpan<double> x, double m, double sigma, Span<double> prediction);
