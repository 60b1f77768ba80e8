using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using MLExtensions.Diffusion.Search;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>What a cluster search evaluates: its search space and the trial runner a silo builds from the same arguments.
/// Registered by name on every silo (<see cref="ClusterHosting.AddSearchWorkload"/>) because a runner (models, data) cannot
/// travel between silos; only the workload's name and its arguments do.</summary>
public interface ISearchWorkload
{
    /// <summary>The search space of a search with these arguments.</summary>
    /// <param name="arguments">The request's arguments.</param>
    /// <returns>The space.</returns>
    SearchSpace CreateSpace(string? arguments);

    /// <summary>A trial runner for these arguments. Runners are pooled per silo and each runs one trial at a time.</summary>
    /// <param name="arguments">The request's arguments.</param>
    /// <param name="services">The silo's services.</param>
    /// <returns>The runner.</returns>
    ITrialRunner CreateRunner(string? arguments, IServiceProvider services);
}

/// <summary>The silo's pool of trial runners, by workload and arguments: a runner is rented for one trial and returned,
/// so runners that are not thread-safe never run two trials at once, and loading (models, data) is paid once per runner.</summary>
internal sealed class TrialRunnerPool(IServiceProvider services)
{
    private readonly ConcurrentDictionary<(string, string), ConcurrentBag<ITrialRunner>> _idle = new();

    public ISearchWorkload Workload(string name) =>
        services.GetKeyedService<ISearchWorkload>(name)
        ?? throw new ArgumentException($"No search workload named '{name}' is registered on this silo; register it with AddSearchWorkload on every silo.", nameof(name));

    public async Task<TrialResult> RunAsync(TrialWork work, CancellationToken cancellationToken)
    {
        var key = (work.Workload, work.Arguments ?? "");
        var bag = _idle.GetOrAdd(key, _ => []);
        if (!bag.TryTake(out var runner)) runner = Workload(work.Workload).CreateRunner(work.Arguments, services);
        try
        {
            var settings = new TrialSettings(work.TrialId, ParameterJson.Read(work.ParameterJson));
            return await RoundSearch.RunTrialAsync(runner, settings, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            bag.Add(runner);
        }
    }
}
