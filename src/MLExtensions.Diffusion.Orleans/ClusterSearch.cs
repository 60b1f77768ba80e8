using MLExtensions.Diffusion.Search;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>Runs a search on an Orleans cluster from a client (or from inside a silo).</summary>
public static class ClusterSearch
{
    /// <summary>Runs (or resumes) the search <paramref name="searchId"/> on the cluster: its coordinator grain fans each
    /// round out to trial grains across the silos. When the coordinator's silo dies the call is made again, and the new
    /// coordinator resumes from the stored trials (the lost trials run again); a trial whose silo dies is re-run elsewhere.</summary>
    /// <param name="grains">The cluster client's grain factory.</param>
    /// <param name="searchId">The search id: the same id resumes (or returns) the same search.</param>
    /// <param name="request">The search.</param>
    /// <param name="maxCoordinatorAttempts">How many times the coordinator is called before giving up when its silo dies.</param>
    /// <param name="cancellationToken">Stops waiting (the cluster keeps the search's state; run it again to resume).</param>
    /// <returns>The trials, the best one and the retry count.</returns>
    /// <exception cref="ArgumentException">The id is empty, the request invalid, or the id holds another search.</exception>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidOperationException">No trial succeeded, or work was lost too many times.</exception>
    public static async Task<(SearchResult Result, int Retries)> RunAsync(IGrainFactory grains, string searchId, ClusterSearchRequest request,
        int maxCoordinatorAttempts = 5, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(searchId);
        request.Validate();
        var outcome = await ClusterHosting.CallWithRetryAsync(
            () => grains.GetGrain<ISearchCoordinatorGrain>(searchId).RunAsync(request), maxCoordinatorAttempts, cancellationToken).ConfigureAwait(false);
        var result = RoundSearch.Finish(outcome.Trials.Select(t => t.ToResult()).ToList(), outcome.StopReason, outcome.ElapsedMilliseconds);
        return (result, outcome.Retries);
    }
}
