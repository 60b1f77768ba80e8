namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// A log-density evaluated on a batch of rows: writes ln p(x_r) for every row x_r of <paramref name="rows"/>.
/// </summary>
/// <param name="rows">Rows, row-major; length a multiple of the dimension the caller documents.</param>
/// <param name="destination">One entry per row.</param>
public delegate void BatchLogDensity(ReadOnlySpan<double> rows, Span<double> destination);
