using Microsoft.ML;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Search;
using Orleans.TestingHost;

namespace MLExtensions.Diffusion.Orleans.Tests;

/// <summary>Kills a silo while it runs held work, then checks that the work completed elsewhere exactly once in the
/// results, with the same trials (or rows) as one process computes.</summary>
public sealed class SiloFailureTests
{
    /// <summary>The silo to kill among those that hold work: not the primary (silo 0), preferably not the coordinator's.</summary>
    private static InProcessSiloHandle PickVictim(InProcessTestCluster cluster, IEnumerable<string> holdingSilos, string? coordinatorSilo)
    {
        var holding = holdingSilos.ToHashSet();
        var candidates = cluster.Silos.Skip(1).Where(s => holding.Contains(s.SiloAddress.ToString())).ToList();
        Assert.True(candidates.Count > 0, $"No held work landed on a secondary silo (held on {string.Join(", ", holding)}).");
        return candidates.FirstOrDefault(s => s.SiloAddress.ToString() != coordinatorSilo) ?? candidates[0];
    }

    /// <summary>Starts a call whose coordinator is placed on silo 0 (never killed here), so the killed silo is a worker.</summary>
    private static T OnPrimary<T>(InProcessTestCluster cluster, Func<T> start)
    {
        global::Orleans.Runtime.RequestContext.Set(global::Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey, cluster.Silos[0].SiloAddress);
        try
        {
            return start();
        }
        finally
        {
            global::Orleans.Runtime.RequestContext.Clear();
        }
    }

    [Fact]
    public async Task Killing_a_silo_mid_search_reruns_its_trials_elsewhere_and_gives_the_local_result()
    {
        await using var cluster = await TestCluster3.StartAsync();
        string tag = $"kill-{Guid.NewGuid():N}";
        // Hold every first start of round 2 (trials 6..11) so they are running when the silo dies.
        var hold = new SyntheticWorkload.Hold(Enumerable.Range(6, 6).ToHashSet());
        SyntheticWorkload.Holds[tag] = hold;
        var request = new ClusterSearchRequest { Workload = SyntheticWorkload.Name, Arguments = tag, Tuner = "gp", Seed = 11, MaxTrials = 18, BatchSize = 6 };
        var run = OnPrimary(cluster, () => ClusterSearch.RunAsync(cluster.Client, $"search-{tag}", request));
        await hold.AllStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var progress = await cluster.Client.GetGrain<ISearchCoordinatorGrain>($"search-{tag}").GetProgressAsync();
        Assert.Equal(6, progress.Completed);
        Assert.Equal(cluster.Silos[0].SiloAddress.ToString(), progress.Silo);
        var victim = PickVictim(cluster, hold.Started.Values, progress.Silo);
        string victimAddress = victim.SiloAddress.ToString();
        var lost = hold.Started.Where(kv => kv.Value == victimAddress).Select(kv => kv.Key).ToHashSet();
        await cluster.KillSiloAsync(victim);
        hold.Release.TrySetResult();
        var (result, retries) = await run.WaitAsync(TimeSpan.FromSeconds(90));

        var space = SyntheticWorkload.Space();
        var local = await RoundSearch.RunLocalAsync(space, RoundSearch.CreateTuner("gp", space, 11), new SyntheticWorkload.Runner("local-" + tag, "local"), 18, 6);
        Assert.Equal(Enumerable.Range(0, 18), result.Trials.Select(t => t.TrialSettings.TrialId));
        for (int i = 0; i < 18; i++)
        {
            Assert.True(local.Trials[i].TrialSettings.Parameter.Equals(result.Trials[i].TrialSettings.Parameter));
            Assert.Equal(local.Trials[i].Loss, result.Trials[i].Loss);
        }
        Assert.Equal(local.BestTrial!.TrialSettings.TrialId, result.BestTrial!.TrialSettings.TrialId);
        Assert.True(retries >= lost.Count, $"{retries} retries for {lost.Count} lost trials");
        // Trials held on the dead silo were re-run on a live one; the others ran once.
        var outcome = await cluster.Client.GetGrain<ISearchCoordinatorGrain>($"search-{tag}").RunAsync(request);
        foreach (var t in outcome.Trials.Where(t => lost.Contains(t.TrialId)))
        {
            Assert.NotEqual(victimAddress, t.Silo);
            Assert.True(t.Attempt >= 2);
        }
        Assert.Equal(18, outcome.Trials.Select(t => t.TrialId).Distinct().Count());
    }

    [Fact]
    public async Task Killing_a_silo_mid_generation_rewrites_its_shards_elsewhere_and_the_rows_equal_one_process()
    {
        await using var cluster = await TestCluster3.StartAsync();
        string model = Repo.File("models", "penguins", "model.zip");
        string folder = Repo.TempFolder();
        var request = new GenerationRequest { Model = model, OutputFolder = folder, Rows = 1000, Seed = 5, ShardRows = 90, Format = ShardFormat.Parquet, Steps = 6 };
        var hold = new ShardHold { Shards = Enumerable.Range(0, request.ShardCount).ToHashSet() };
        ShardHold.Current = hold;
        try
        {
            var run = OnPrimary(cluster, () => ClusterGeneration.RunAsync(cluster.Client, $"job-{Guid.NewGuid():N}", request));
            await hold.AllStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var victim = PickVictim(cluster, hold.Started.Values, null);
            string victimAddress = victim.SiloAddress.ToString();
            var lost = hold.Started.Where(kv => kv.Value == victimAddress).Select(kv => kv.Key).ToHashSet();
            await cluster.KillSiloAsync(victim);
            hold.Release.TrySetResult();
            var outcome = await run.WaitAsync(TimeSpan.FromSeconds(90));

            Assert.Equal(Enumerable.Range(0, request.ShardCount), outcome.Shards.Select(s => s.Index));
            Assert.True(outcome.Retries >= lost.Count);
            foreach (var s in outcome.Shards.Where(s => lost.Contains(s.Index))) Assert.NotEqual(victimAddress, s.Silo);
            AssertRowsEqualOneProcess(request, folder);
        }
        finally
        {
            ShardHold.Current = null;
        }
    }

    internal static void AssertRowsEqualOneProcess(GenerationRequest request, string folder)
    {
        var m = new MLContext(0).Diffusion().LoadModel(request.Model);
        var expected = m.Generate((int)request.Rows, request.Seed, request.Sampler is { } k ? SamplingPlan.CreateSampler(k) : null, request.Steps);
        var files = Directory.GetFiles(folder, "part-*").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(request.ShardCount, files.Length);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
        var rows = new List<long>();
        var values = new List<float>();
        foreach (var f in files)
        {
            var (r, v, _) = ShardFiles.ReadShard(f);
            rows.AddRange(r);
            values.AddRange(v);
        }
        Assert.Equal(Enumerable.Range(0, (int)request.Rows).Select(i => (long)i), rows);
        Assert.Equal(expected, values.ToArray());
    }
}

public sealed class CoordinatorFailureTests
{
    [Fact]
    public async Task Killing_the_coordinators_silo_resumes_the_search_from_its_stored_trials()
    {
        await using var cluster = await TestCluster3.StartAsync();
        string tag = $"coord-{Guid.NewGuid():N}";
        var hold = new SyntheticWorkload.Hold(Enumerable.Range(5, 5).ToHashSet());
        SyntheticWorkload.Holds[tag] = hold;
        var request = new ClusterSearchRequest { Workload = SyntheticWorkload.Name, Arguments = tag, Tuner = "gp", Seed = 4, MaxTrials = 15, BatchSize = 5 };
        var victim = cluster.Silos[1];
        // Place the coordinator on a secondary silo (silo 0 is the test cluster's primary).
        global::Orleans.Runtime.RequestContext.Set(global::Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey, victim.SiloAddress);
        var run = ClusterSearch.RunAsync(cluster.Client, $"search-{tag}", request);
        global::Orleans.Runtime.RequestContext.Clear();
        await hold.AllStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var before = await cluster.Client.GetGrain<ISearchCoordinatorGrain>($"search-{tag}").GetProgressAsync();
        Assert.Equal(victim.SiloAddress.ToString(), before.Silo);
        Assert.Equal(5, before.Completed);
        await cluster.KillSiloAsync(victim);
        hold.Release.TrySetResult();
        var (result, _) = await run.WaitAsync(TimeSpan.FromSeconds(90));

        var after = await cluster.Client.GetGrain<ISearchCoordinatorGrain>($"search-{tag}").GetProgressAsync();
        Assert.NotEqual(victim.SiloAddress.ToString(), after.Silo);
        Assert.True(after.Finished);
        var space = SyntheticWorkload.Space();
        var local = await RoundSearch.RunLocalAsync(space, RoundSearch.CreateTuner("gp", space, 4), new SyntheticWorkload.Runner("local-" + tag, "local"), 15, 5);
        Assert.Equal(Enumerable.Range(0, 15), result.Trials.Select(t => t.TrialSettings.TrialId));
        for (int i = 0; i < 15; i++)
        {
            Assert.True(local.Trials[i].TrialSettings.Parameter.Equals(result.Trials[i].TrialSettings.Parameter));
            Assert.Equal(local.Trials[i].Loss, result.Trials[i].Loss);
        }
        // Round 1 came from the stored state: its trials ran exactly once.
        for (int id = 0; id < 5; id++) Assert.Equal(1, SyntheticWorkload.CompletedCount(tag, id));
    }
}
