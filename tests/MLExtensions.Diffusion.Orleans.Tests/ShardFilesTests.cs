namespace MLExtensions.Diffusion.Orleans.Tests;

[Collection("cluster")]
public sealed class GenerationTests(ClusterFixture fixture)
{
    private static string Model => Repo.File("models", "penguins", "model.zip");

    [Theory]
    [InlineData(ShardFormat.Parquet)]
    [InlineData(ShardFormat.Csv)]
    public async Task Cluster_generation_writes_the_rows_of_one_process_and_a_rerun_writes_nothing(ShardFormat format)
    {
        string folder = Repo.TempFolder();
        var request = new GenerationRequest { Model = Model, OutputFolder = folder, Rows = 777, Seed = 3, ShardRows = 100, Format = format, Steps = 5 };
        var first = await ClusterGeneration.RunAsync(fixture.Cluster.Client, $"gen-{Guid.NewGuid():N}", request);
        Assert.Equal(8, first.Shards.Count);
        Assert.All(first.Shards, s => Assert.True(s.Written));
        Assert.Equal(77, first.Shards[^1].Count);
        SiloFailureTests.AssertRowsEqualOneProcess(request, folder);
        var stamps = Directory.GetFiles(folder, "part-*").ToDictionary(f => f, File.GetLastWriteTimeUtc);

        // A new job id on the same folder (a rerun after a lost coordinator state) keeps every complete shard.
        var second = await ClusterGeneration.RunAsync(fixture.Cluster.Client, $"gen-{Guid.NewGuid():N}", request);
        Assert.All(second.Shards, s => Assert.False(s.Written));
        foreach (var (f, t) in stamps) Assert.Equal(t, File.GetLastWriteTimeUtc(f));
        SiloFailureTests.AssertRowsEqualOneProcess(request, folder);
    }

    [Fact]
    public async Task A_cluster_job_with_a_missing_model_is_refused_without_claiming_its_folder()
    {
        string folder = Repo.TempFolder();
        var request = new GenerationRequest { Model = Path.Combine(folder, "missing.zip"), OutputFolder = folder, Rows = 10, Seed = 1, ShardRows = 5 };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => ClusterGeneration.RunAsync(fixture.Cluster.Client, $"gen-{Guid.NewGuid():N}", request));
        Assert.Contains("does not exist", e.Message);
        Assert.False(File.Exists(Path.Combine(folder, ShardFiles.JobFileName)));
        Assert.Contains("ShardRows", (await Assert.ThrowsAsync<ArgumentException>(() => ClusterGeneration.RunAsync(fixture.Cluster.Client, "gen-bad", request with { ShardRows = 0 }))).Message);
    }

    [Fact]
    public void Local_generation_rewrites_only_missing_or_damaged_shards()
    {
        string folder = Repo.TempFolder();
        var request = new GenerationRequest { Model = Model, OutputFolder = folder, Rows = 250, Seed = 9, ShardRows = 100, Format = ShardFormat.Csv, Steps = 4 };
        ClusterGeneration.RunLocal(request);
        File.Delete(ShardFiles.ShardPath(request, 1));
        File.WriteAllText(ShardFiles.ShardPath(request, 2), "Row,beak\n200,1\n");   // a damaged (short) shard
        var again = ClusterGeneration.RunLocal(request);
        Assert.Equal([false, true, true], again.Shards.Select(s => s.Written));
        SiloFailureTests.AssertRowsEqualOneProcess(request, folder);
    }

    [Fact]
    public void A_folder_of_another_job_and_bad_requests_are_refused()
    {
        string folder = Repo.TempFolder();
        var request = new GenerationRequest { Model = Model, OutputFolder = folder, Rows = 10, Seed = 1, ShardRows = 5, Format = ShardFormat.Csv, Steps = 3 };
        ClusterGeneration.RunLocal(request);
        Assert.Contains("another job", Assert.Throws<ArgumentException>(() => ClusterGeneration.RunLocal(request with { Seed = 2 })).Message);
        Assert.Contains("ShardRows", Assert.Throws<ArgumentException>(() => ClusterGeneration.RunLocal(request with { ShardRows = 0 })).Message);
        Assert.Contains("Rows", Assert.Throws<ArgumentException>(() => ClusterGeneration.RunLocal(request with { Rows = -1 })).Message);
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() => ClusterGeneration.RunLocal(request with { Model = Path.Combine(folder, "missing.zip") })).Message);
    }
}
