using Orleans.Placement;
using Orleans.Runtime;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>Runs one trial (key: search id / trial id / attempt) on the silo the coordinator hints (<see cref="WorkSpreader"/>), else the one with the fewest activations.</summary>
[ActivationCountBasedPlacement]
internal sealed class TrialGrain(TrialRunnerPool pool, ILocalSiloDetails silo) : Grain, ITrialGrain
{
    public async Task<TrialOutcome> RunAsync(TrialWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var result = await pool.RunAsync(work, CancellationToken.None);
        DeactivateOnIdle();
        return TrialOutcome.From(result, silo.SiloAddress.ToString());
    }
}
