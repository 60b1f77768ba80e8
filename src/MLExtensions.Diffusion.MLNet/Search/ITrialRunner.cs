namespace MLExtensions.Diffusion.Search;

/// <summary>Evaluates one point of a search space (trains and scores a model, runs a sampler, ...).</summary>
public interface ITrialRunner
{
    /// <summary>Runs one trial.</summary>
    /// <param name="settings">The trial and its parameter.</param>
    /// <param name="cancellationToken">Cancelled when the experiment stops (caller cancellation or wall-time budget); a runner should honour it promptly by throwing <see cref="OperationCanceledException"/>.</param>
    /// <returns>The result; any exception other than cancellation marks the trial failed.</returns>
    Task<TrialResult> RunAsync(TrialSettings settings, CancellationToken cancellationToken);
}
