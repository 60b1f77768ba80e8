using MLExtensions.Diffusion.Search;
using Orleans.TestingHost;

namespace MLExtensions.Diffusion.Orleans.Tests;

public sealed class ClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await TestCluster3.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition("cluster")]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>;

[Collection("cluster")]
public sealed class DistributedSearchTests(ClusterFixture fixture)
{
    private static void AssertSameTrials(SearchResult expected, SearchResult actual)
    {
        Assert.Equal(expected.Trials.Count, actual.Trials.Count);
        for (int i = 0; i < expected.Trials.Count; i++)
        {
            var (e, a) = (expected.Trials[i], actual.Trials[i]);
            Assert.Equal(e.TrialSettings.TrialId, a.TrialSettings.TrialId);
            Assert.True(e.TrialSettings.Parameter.Equals(a.TrialSettings.Parameter), $"trial {i}: {e.TrialSettings.Parameter} vs {a.TrialSettings.Parameter}");
            Assert.Equal(e.Loss, a.Loss);
            Assert.Equal(e.Metric, a.Metric);
            Assert.Equal(e.Error, a.Error);
        }
        Assert.Equal(expected.BestTrial!.TrialSettings.TrialId, actual.BestTrial!.TrialSettings.TrialId);
        Assert.Equal(expected.BestTrial.Loss, actual.BestTrial.Loss);
    }

    [Theory]
    [InlineData("gp", 14, 4)]
    [InlineData("random", 10, 3)]
    [InlineData("grid", 9, 5)]
    public async Task Cluster_search_gives_the_local_round_search_trials_and_best(string tuner, int trials, int batch)
    {
        string tag = $"same-{tuner}-{Guid.NewGuid():N}";
        var request = new ClusterSearchRequest { Workload = SyntheticWorkload.Name, Arguments = tag, Tuner = tuner, Seed = 7, MaxTrials = trials, BatchSize = batch };
        var (result, retries) = await ClusterSearch.RunAsync(fixture.Cluster.Client, $"search-{tag}", request);

        var space = SyntheticWorkload.Space();
        var local = await RoundSearch.RunLocalAsync(space, RoundSearch.CreateTuner(tuner, space, 7), new SyntheticWorkload.Runner("local-" + tag, "local"), trials, batch);
        AssertSameTrials(local, result);
        Assert.Equal(0, retries);
        for (int id = 0; id < trials; id++) Assert.Equal(1, SyntheticWorkload.CompletedCount(tag, id));
        Assert.Equal(SearchStopReason.MaxTrials, result.StopReason);
    }

    [Fact]
    public async Task Batch_size_one_equals_the_single_machine_SearchExperiment()
    {
        string tag = $"experiment-{Guid.NewGuid():N}";
        var space = SyntheticWorkload.Space();
        var experiment = await new SearchExperiment().SetSearchSpace(space).SetTuner((s, seed) => new GaussianProcessTuner(s, seed))
            .SetTrialRunner(new SyntheticWorkload.Runner("exp-" + tag, "local")).SetMaxTrials(10).SetSeed(3).RunAsync();
        var request = new ClusterSearchRequest { Workload = SyntheticWorkload.Name, Arguments = tag, Tuner = "gp", Seed = 3, MaxTrials = 10, BatchSize = 1 };
        var (result, _) = await ClusterSearch.RunAsync(fixture.Cluster.Client, $"search-{tag}", request);
        AssertSameTrials(experiment, result);
    }

    [Fact]
    public async Task A_finished_search_is_returned_from_its_state_without_running_again_and_another_request_on_its_id_is_refused()
    {
        string tag = $"again-{Guid.NewGuid():N}";
        var request = new ClusterSearchRequest { Workload = SyntheticWorkload.Name, Arguments = tag, Tuner = "random", Seed = 1, MaxTrials = 5, BatchSize = 2 };
        var (first, _) = await ClusterSearch.RunAsync(fixture.Cluster.Client, $"search-{tag}", request);
        // A fresh activation of the coordinator reads the stored state.
        await fixture.Cluster.DeactivateAsync(fixture.Cluster.Client.GetGrain<ISearchCoordinatorGrain>($"search-{tag}"));
        var (second, _) = await ClusterSearch.RunAsync(fixture.Cluster.Client, $"search-{tag}", request);
        AssertSameTrials(first, second);
        for (int id = 0; id < 5; id++) Assert.Equal(1, SyntheticWorkload.CompletedCount(tag, id));
        var e = await Assert.ThrowsAsync<ArgumentException>(() => ClusterSearch.RunAsync(fixture.Cluster.Client, $"search-{tag}", request with { Seed = 2 }));
        Assert.Contains("other settings", e.Message);
    }

    [Fact]
    public async Task Bad_requests_are_refused_with_clear_messages()
    {
        var ok = new ClusterSearchRequest { Workload = SyntheticWorkload.Name, Arguments = "bad", MaxTrials = 2 };
        Assert.Contains("tuner", (await Assert.ThrowsAsync<ArgumentException>(() => ClusterSearch.RunAsync(fixture.Cluster.Client, "bad-1", ok with { Tuner = "annealing" }))).Message);
        Assert.Contains("BatchSize", (await Assert.ThrowsAsync<ArgumentException>(() => ClusterSearch.RunAsync(fixture.Cluster.Client, "bad-2", ok with { BatchSize = 0 }))).Message);
        Assert.Contains("MaxTrials", (await Assert.ThrowsAsync<ArgumentException>(() => ClusterSearch.RunAsync(fixture.Cluster.Client, "bad-3", ok with { MaxTrials = 0 }))).Message);
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => ClusterSearch.RunAsync(fixture.Cluster.Client, "bad-4", ok with { Workload = "nope" }));
        Assert.Contains("No search workload named 'nope'", unknown.Message);
    }
}

[Collection("cluster")]
public sealed class DiffusionTrialTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_sampling_plan_search_of_the_penguins_model_gives_the_same_trials_on_the_cluster_and_locally()
    {
        var args = new SamplingPlanArguments
        {
            Model = Repo.File("models", "penguins", "model.zip"), Data = Repo.File("models", "penguins", "heldout.csv"), Seed = 1, Rows = 128, ReferenceSteps = 100,
        };
        var request = new ClusterSearchRequest { Workload = SamplingPlanWorkload.Name, Arguments = args.ToJson(), Tuner = "random", Seed = 5, MaxTrials = 2, BatchSize = 2 };
        var (cluster, _) = await ClusterSearch.RunAsync(fixture.Cluster.Client, $"penguins-{Guid.NewGuid():N}", request);
        var space = new SamplingPlanWorkload().CreateSpace(request.Arguments);
        var local = await RoundSearch.RunLocalAsync(space, RoundSearch.CreateTuner("random", space, 5), SamplingPlanWorkload.CreateRunner(args), 2, 2);
        Assert.Equal(2, cluster.Trials.Count);
        for (int i = 0; i < 2; i++)
        {
            Assert.True(local.Trials[i].TrialSettings.Parameter.Equals(cluster.Trials[i].TrialSettings.Parameter));
            Assert.Equal(local.Trials[i].Error, cluster.Trials[i].Error);
            Assert.Equal(local.Trials[i].Loss, cluster.Trials[i].Loss);
            Assert.Equal(local.Trials[i].Metrics?["Cost"], cluster.Trials[i].Metrics?["Cost"]);
        }
        Assert.NotNull(cluster.BestTrial);
        Assert.Equal(local.BestTrial!.TrialSettings.TrialId, cluster.BestTrial!.TrialSettings.TrialId);
    }

    [Fact]
    public void Sampling_plan_arguments_are_checked()
    {
        Assert.Contains("needs its arguments", Assert.Throws<ArgumentException>(() => new SamplingPlanWorkload().CreateSpace(null)).Message);
        Assert.Contains("not valid JSON", Assert.Throws<ArgumentException>(() => new SamplingPlanWorkload().CreateSpace("{model")).Message);
        var missing = new SamplingPlanArguments { Model = "/nonexistent/model.zip", Data = Repo.File("models", "penguins", "heldout.csv") };
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() => SamplingPlanWorkload.CreateRunner(missing)).Message);
    }
}
