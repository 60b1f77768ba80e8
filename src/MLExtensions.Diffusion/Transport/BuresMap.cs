namespace MLExtensions.Diffusion.Transport;

/// <summary>
/// An affine transport map T(x) = TargetMean + A (x - SourceMean) with A symmetric positive semi-definite: the
/// W2-optimal map between two Gaussian laws, built by <see cref="GaussianWasserstein.OptimalMap"/>.
/// </summary>
public sealed class BuresMap
{
    private readonly double[] _sourceMean;
    private readonly double[] _targetMean;
    private readonly double[] _linear;

    internal BuresMap(double[] sourceMean, double[] targetMean, double[] linear, int dimension)
    {
        _sourceMean = sourceMean;
        _targetMean = targetMean;
        _linear = linear;
        Dimension = dimension;
    }

    /// <summary>The dimension d.</summary>
    public int Dimension { get; }

    /// <summary>The source mean mu1 (length d).</summary>
    public ReadOnlySpan<double> SourceMean => _sourceMean;

    /// <summary>The target mean mu2 (length d).</summary>
    public ReadOnlySpan<double> TargetMean => _targetMean;

    /// <summary>The symmetric matrix A, row-major d x d.</summary>
    public ReadOnlySpan<double> LinearPart => _linear;

    /// <summary>
    /// Applies the map to every row of a row-major batch: destination row = mu2 + A (source row - mu1).
    /// </summary>
    /// <param name="source">Row-major batch of points with <see cref="Dimension"/> columns.</param>
    /// <param name="destination">Output batch, same length as <paramref name="source"/>; must not overlap it.</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> is empty, holds a non-finite value or its length is
    /// not a multiple of the dimension; <paramref name="destination"/> has a different length or overlaps
    /// <paramref name="source"/>.</exception>
    public void Apply(ReadOnlySpan<double> source, Span<double> destination)
    {
        int rows = PointSetArguments.RequirePointSet(source, Dimension, nameof(source));
        if (destination.Length != source.Length)
            throw new ArgumentException($"The argument '{nameof(destination)}' has length {destination.Length}; expected {source.Length}.", nameof(destination));
        if (source.Overlaps(destination))
            throw new ArgumentException($"The argument '{nameof(destination)}' must not overlap '{nameof(source)}'.", nameof(destination));
        int d = Dimension;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<double> x = source.Slice(r * d, d);
            Span<double> y = destination.Slice(r * d, d);
            for (int i = 0; i < d; i++)
            {
                double acc = _targetMean[i];
                ReadOnlySpan<double> row = _linear.AsSpan(i * d, d);
                for (int j = 0; j < d; j++) acc += row[j] * (x[j] - _sourceMean[j]);
                y[i] = acc;
            }
        }
    }
}
