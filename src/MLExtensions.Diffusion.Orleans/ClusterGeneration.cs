using System.Diagnostics;
using Microsoft.ML;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>Runs bulk generation jobs: on an Orleans cluster, or in this process (the reference, same files).</summary>
public static class ClusterGeneration
{
    /// <summary>Runs (or resumes) generation job <paramref name="jobId"/> on the cluster. When the job's coordinator dies
    /// the call is made again and the new coordinator writes only the shards not yet recorded; a shard whose silo dies is
    /// written again elsewhere (a complete file from the dead silo is kept, never duplicated).</summary>
    /// <param name="grains">The cluster client's grain factory.</param>
    /// <param name="jobId">The job id.</param>
    /// <param name="request">The job.</param>
    /// <param name="maxCoordinatorAttempts">Calls of the coordinator before giving up when its silo dies.</param>
    /// <param name="cancellationToken">Stops waiting (the job's state stays; run it again to resume).</param>
    /// <returns>The shards.</returns>
    /// <exception cref="ArgumentException">The id is empty, the request is invalid, or the id or folder holds another job.</exception>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static Task<GenerationOutcome> RunAsync(IGrainFactory grains, string jobId, GenerationRequest request, int maxCoordinatorAttempts = 5,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        request.Validate();
        return ClusterHosting.CallWithRetryAsync(() => grains.GetGrain<IGenerationJobGrain>(jobId).RunAsync(request), maxCoordinatorAttempts, cancellationToken);
    }

    /// <summary>Writes the job's shards in this process, one after another: the same files as the cluster writes.</summary>
    /// <param name="request">The job.</param>
    /// <param name="progress">Told of every shard; may be null.</param>
    /// <param name="cancellationToken">Stops between shards.</param>
    /// <returns>The shards.</returns>
    /// <exception cref="ArgumentException">The request is invalid, the model cannot be read, or the folder holds another job.</exception>
    public static GenerationOutcome RunLocal(GenerationRequest request, IProgress<ShardOutcome>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var clock = Stopwatch.StartNew();
        var model = new ModelCache().Get(request.Model);
        ShardFiles.PrepareFolder(request);
        var shards = new List<ShardOutcome>(request.ShardCount);
        for (int i = 0; i < request.ShardCount; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var outcome = ShardFiles.WriteShard(request, i, model, cancellationToken);
            shards.Add(outcome);
            progress?.Report(outcome);
        }
        return new GenerationOutcome { Shards = shards, ElapsedMilliseconds = clock.Elapsed.TotalMilliseconds };
    }
}
