namespace MLExtensions.Diffusion.Search;

/// <summary>
/// Proposes the points of a cartesian grid in order (the last dimension varies fastest), then starts over.
/// A continuous dimension gets <c>stepsPerRange</c> evenly spaced unit-cube points from 0 to 1 (so both ends, and evenly
/// spaced in log on a log scale); an integer dimension the distinct integers at those points; a choice every choice.
/// </summary>
public sealed class GridSearchTuner : ITuner
{
    private readonly SearchSpace _space;
    private readonly double[][] _axes;
    private long _next;

    /// <summary>A grid-search tuner.</summary>
    /// <param name="space">The search space, at least one dimension.</param>
    /// <param name="stepsPerRange">Grid points per range dimension, at least 2.</param>
    /// <exception cref="ArgumentException">The space has no dimensions, <paramref name="stepsPerRange"/> &lt; 2, or the grid has more than 2^62 points.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="space"/> is null.</exception>
    public GridSearchTuner(SearchSpace space, int stepsPerRange = 5)
    {
        ArgumentNullException.ThrowIfNull(space);
        if (space.Count == 0) throw new ArgumentException("The search space has no dimensions.", nameof(space));
        if (stepsPerRange < 2) throw new ArgumentException($"stepsPerRange must be at least 2, not {stepsPerRange}.", nameof(stepsPerRange));
        _space = space;
        _axes = new double[space.Count][];
        long size = 1;
        for (int i = 0; i < space.Count; i++)
        {
            var d = space.Dimensions[i];
            if (d.Kind == DimensionKind.Choice)
                _axes[i] = Enumerable.Range(0, d.Choices.Count).Select(k => (k + 0.5) / d.Choices.Count).ToArray();
            else
            {
                var points = Enumerable.Range(0, stepsPerRange).Select(k => (double)k / (stepsPerRange - 1));
                // An integer axis keeps one point per distinct integer (its canonical feature).
                _axes[i] = d.Kind == DimensionKind.Integer
                    ? points.Select(u => d.ToFeature(d.FromFeature(u))).Distinct().ToArray()
                    : points.ToArray();
            }
            if (size > (1L << 62) / _axes[i].Length) throw new ArgumentException("The grid has more than 2^62 points.", nameof(stepsPerRange));
            size *= _axes[i].Length;
        }
        GridSize = size;
    }

    /// <summary>The number of grid points.</summary>
    public long GridSize { get; }

    /// <inheritdoc/>
    public Parameter Propose(TrialSettings settings)
    {
        long index = _next % GridSize;
        _next++;
        var feature = new double[_axes.Length];
        for (int i = _axes.Length - 1; i >= 0; i--)
        {
            feature[i] = _axes[i][index % _axes[i].Length];
            index /= _axes[i].Length;
        }
        return _space.Sample(feature);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> is null.</exception>
    public void Update(TrialResult result) => ArgumentNullException.ThrowIfNull(result);
}
