namespace MLExtensions.Diffusion.Search;

/// <summary>Proposes independent uniform points of the unit cube (so log ranges are sampled log-uniformly); seeded.</summary>
public sealed class RandomSearchTuner : ITuner
{
    private readonly SearchSpace _space;
    private readonly Random _random;

    /// <summary>A random-search tuner.</summary>
    /// <param name="space">The search space, at least one dimension.</param>
    /// <param name="seed">The seed: the same seed proposes the same sequence.</param>
    /// <exception cref="ArgumentException">The space has no dimensions.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="space"/> is null.</exception>
    public RandomSearchTuner(SearchSpace space, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(space);
        if (space.Count == 0) throw new ArgumentException("The search space has no dimensions.", nameof(space));
        _space = space;
        _random = new Random(seed);
    }

    /// <inheritdoc/>
    public Parameter Propose(TrialSettings settings)
    {
        var feature = new double[_space.Count];
        for (int i = 0; i < feature.Length; i++) feature[i] = _random.NextDouble();
        return _space.Sample(feature);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> is null.</exception>
    public void Update(TrialResult result) => ArgumentNullException.ThrowIfNull(result);
}
