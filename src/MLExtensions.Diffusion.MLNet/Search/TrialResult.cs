namespace MLExtensions.Diffusion.Search;

/// <summary>What a trial measured.</summary>
/// <remarks>
/// A failed trial (its runner threw) has <see cref="Error"/> set and <see cref="Loss"/> = +Infinity. Extra metrics name
/// anything else worth keeping, e.g. a cost such as the number of function evaluations ("Cost") for a
/// <see cref="ParetoFront"/>.
/// </remarks>
public sealed record TrialResult
{
    /// <summary>The trial that produced this result.</summary>
    public required TrialSettings TrialSettings { get; init; }

    /// <summary>The value the search minimises.</summary>
    public double Loss { get; init; }

    /// <summary>The metric as reported (e.g. accuracy, where the loss may be its negation).</summary>
    public double Metric { get; init; }

    /// <summary>How long the trial ran; the experiment measures it when the runner leaves it 0.</summary>
    public double DurationMilliseconds { get; init; }

    /// <summary>Optional extra metrics by name (e.g. "Cost").</summary>
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }

    /// <summary>The exception message of a failed trial; null when it succeeded.</summary>
    public string? Error { get; init; }

    /// <summary>Whether the trial succeeded (no error and a finite loss).</summary>
    public bool IsSuccess => Error is null && double.IsFinite(Loss);
}
