using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Runtime;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>Writes one shard (key: job id / shard / attempt) on the silo the job hints (<see cref="WorkSpreader"/>); the CPU work runs
/// off the grain's scheduler.</summary>
[ActivationCountBasedPlacement]
internal sealed class ShardGrain(ModelCache models, ILocalSiloDetails silo, IServiceProvider services) : Grain, IShardGrain
{
    public async Task<ShardOutcome> WriteAsync(GenerationRequest request, int index)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        if (services.GetService(typeof(IShardStartHook)) is IShardStartHook hook) await hook.StartingAsync(index, silo.SiloAddress.ToString());
        var outcome = await Task.Run(() => ShardFiles.WriteShard(request, index, models.Get(request.Model)));
        DeactivateOnIdle();
        return outcome with { Silo = silo.SiloAddress.ToString() };
    }
}

/// <summary>The coordinator of one generation job.</summary>
internal sealed class GenerationJobGrain(
    [PersistentState("generation", ClusterHosting.StorageName)] IPersistentState<GenerationState> state, WorkSpreader spreader, IHostApplicationLifetime lifetime,
    ILogger<GenerationJobGrain> log) : Grain, IGenerationJobGrain
{
    private CoalescingStateWriter? _writer;

    public Task<int> GetCompletedShardsAsync() => Task.FromResult(state.State.Shards.Count);

    public async Task<GenerationOutcome> RunAsync(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        string id = this.GetPrimaryKeyString();
        var s = state.State;
        if (s.Request is null)
        {
            // Refuse a missing model before the folder is claimed for this job (_job.json).
            if (!File.Exists(request.Model)) throw new ArgumentException($"The model file '{request.Model}' does not exist (on the job's silo: every silo must reach it).", nameof(request));
            await Task.Run(() => ShardFiles.PrepareFolder(request));
            s.Request = request;
            await WriteAsync();
        }
        else if (s.Request != request)
        {
            throw new ArgumentException($"Generation job '{id}' was started with other settings ({s.Request}); use another job id for {request}.", nameof(request));
        }
        var clock = Stopwatch.StartNew();
        var done = s.Shards.Select(x => x.Index).ToHashSet();
        if (done.Count > 0 && done.Count < request.ShardCount) log.LogInformation("Generation job {Id} resumes with {Count} stored shards.", id, done.Count);
        using var slots = new SemaphoreSlim(request.MaxParallelShards);
        var tasks = new List<Task>();
        for (int index = 0; index < request.ShardCount; index++)
        {
            if (done.Contains(index)) continue;
            await slots.WaitAsync();
            int shard = index;
            tasks.Add(RunShardAsync(id, request, shard).ContinueWith(t => { slots.Release(); return t; }, TaskScheduler.Current).Unwrap());
            tasks.RemoveAll(t => t.IsCompletedSuccessfully);
            if (tasks.FirstOrDefault(t => t.IsFaulted) is { } failed) await failed;
        }
        await Task.WhenAll(tasks);
        return new GenerationOutcome { Shards = s.Shards.OrderBy(x => x.Index).ToList(), Retries = s.Retries, ElapsedMilliseconds = clock.Elapsed.TotalMilliseconds };
    }

    private async Task RunShardAsync(string jobId, GenerationRequest request, int index)
    {
        for (int attempt = 1; ; attempt++)
        {
            var grain = GrainFactory.GetGrain<IShardGrain>($"{jobId}/{index}/{attempt}");
            try
            {
                var outcome = await spreader.CallAsync(index, attempt, () => grain.WriteAsync(request, index)) with { Attempt = attempt };
                await WriteAsync(() => state.State.Shards.Add(outcome));
                return;
            }
            catch (Exception e) when (ClusterHosting.IsLostWork(e) && attempt < request.MaxAttempts && !lifetime.ApplicationStopping.IsCancellationRequested)
            {
                await WriteAsync(() => state.State.Retries++, write: false);
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));   // back off while the membership settles
                log.LogWarning("Generation job {Id}: shard {Shard} attempt {Attempt} was lost ({Error}); running it again.", jobId, index, attempt, e.Message);
            }
            catch (Exception e) when (ClusterHosting.IsLostWork(e) && !lifetime.ApplicationStopping.IsCancellationRequested)
            {
                throw new InvalidOperationException($"Shard {index} of job '{jobId}' was lost {attempt} times (the last: {e.Message}); giving up.", e);
            }
        }
    }

    /// <summary>Changes the state and stores it (<see cref="CoalescingStateWriter"/>).</summary>
    private Task WriteAsync(Action? change = null, bool write = true) =>
        (_writer ??= new CoalescingStateWriter(state.WriteStateAsync, () => lifetime.ApplicationStopping.IsCancellationRequested)).WriteAsync(change, write);
}

/// <summary>Told when a shard grain starts a shard (tests use it to hold a shard while its silo is killed).</summary>
internal interface IShardStartHook
{
    Task StartingAsync(int index, string silo);
}
