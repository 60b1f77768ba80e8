using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>Spreads work items over the active silos round-robin (item i, attempt a goes to active silo (i + a - 1) mod n,
/// silos in address order) through Orleans' placement hint, so a round's trials or a job's shards land on every silo
/// rather than where the load statistics, stale at the start of a burst, would put them; a retry moves to the next silo.</summary>
internal sealed class WorkSpreader(IClusterMembershipService membership)
{
    public SiloAddress? Pick(int item, int attempt)
    {
        var active = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress).OrderBy(a => a.ToString(), StringComparer.Ordinal).ToArray();
        return active.Length == 0 ? null : active[(int)(((long)item + attempt - 1) % active.Length)];
    }

    /// <summary>Calls <paramref name="call"/> with the placement hint of (item, attempt) in the request context.</summary>
    public async Task<T> CallAsync<T>(int item, int attempt, Func<Task<T>> call)
    {
        var silo = Pick(item, attempt);
        if (silo is not null) RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
        try
        {
            return await call();
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }
}
