using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace MLExtensions.Diffusion.Orleans.Tests;

/// <summary>Two silo processes (<c>mldiffusion silo</c>) and a client in this process, clustered and storing state through
/// Orleans' ADO.NET providers on a throw-away PostgreSQL.</summary>
public sealed class PostgresClusterTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private sealed class SiloProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly TaskCompletionSource _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly System.Text.StringBuilder _log = new();

        public SiloProcess(string connection, int index, int siloPort, int gatewayPort)
        {
            string cli = Path.Combine(AppContext.BaseDirectory, "mldiffusion.dll");
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { cli, "silo", "--cluster", connection, "--index", index.ToString(), "--ports", $"{siloPort},{gatewayPort}", "--advertise", "127.0.0.1" }) info.ArgumentList.Add(a);
            _process = Process.Start(info)!;
            _process.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); if (e.Data?.Contains("is up") == true) _up.TrySetResult(); };
            _process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
            _process.Exited += (_, _) => _up.TrySetException(new InvalidOperationException($"Silo {index} exited: {Log}"));
            _process.EnableRaisingEvents = true;
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Log { get { lock (_log) return _log.ToString(); } }

        public Task Up => _up.Task;

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited) _process.Kill(true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }

    [PostgresFact]
    public async Task Two_silo_processes_and_a_client_on_PostgreSQL_clustering_generate_and_search_like_one_process()
    {
        var clock = Stopwatch.StartNew();
        await using var pg = await EmbeddedPostgres.StartAsync();
        output.WriteLine($"postgres up and schema installed: {clock.Elapsed.TotalSeconds:F1} s");
        string connection = pg.ConnectionString();
        int siloPort = EmbeddedPostgres.FreePort(), gatewayPort = EmbeddedPostgres.FreePort();
        await using var silo0 = new SiloProcess(connection, 0, siloPort, gatewayPort);
        await using var silo1 = new SiloProcess(connection, 1, siloPort, gatewayPort);
        await Task.WhenAll(silo0.Up, silo1.Up).WaitAsync(TimeSpan.FromSeconds(90));

        output.WriteLine($"silos up: {clock.Elapsed.TotalSeconds:F1} s");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(c => c.UseDiffusionCluster(ClusterConnection.Parse(connection)));
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IClusterClient>();

        string folder = Repo.TempFolder();
        var request = new GenerationRequest
        {
            Model = Repo.File("models", "penguins", "model.zip"), OutputFolder = folder, Rows = 2000, Seed = 8, ShardRows = 250, Format = ShardFormat.Parquet, Steps = 5,
        };
        var outcome = await ClusterGeneration.RunAsync(client, "pg-job", request).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(8, outcome.Shards.Count);
        Assert.Equal(2, outcome.Shards.Select(s => s.Silo).Distinct().Count());   // both silo processes wrote shards
        SiloFailureTests.AssertRowsEqualOneProcess(request, folder);
        output.WriteLine($"generation done: {clock.Elapsed.TotalSeconds:F1} s");

        var args = new SamplingPlanArguments
        {
            Model = Repo.File("models", "penguins", "model.zip"), Data = Repo.File("models", "penguins", "heldout.csv"), Seed = 1, Rows = 64, ReferenceSteps = 100,
        };
        var search = new ClusterSearchRequest { Workload = SamplingPlanWorkload.Name, Arguments = args.ToJson(), Tuner = "random", Seed = 2, MaxTrials = 2, BatchSize = 2 };
        var (result, _) = await ClusterSearch.RunAsync(client, "pg-search", search).WaitAsync(TimeSpan.FromSeconds(120));
        output.WriteLine($"cluster search done: {clock.Elapsed.TotalSeconds:F1} s");
        var space = new SamplingPlanWorkload().CreateSpace(search.Arguments);
        var local = await RoundSearch.RunLocalAsync(space, RoundSearch.CreateTuner("random", space, 2), SamplingPlanWorkload.CreateRunner(args), 2, 2);
        for (int i = 0; i < 2; i++)
        {
            Assert.True(local.Trials[i].TrialSettings.Parameter.Equals(result.Trials[i].TrialSettings.Parameter));
            Assert.Equal(local.Trials[i].Loss, result.Trials[i].Loss);
        }

        // The membership and the grain state live in the database.
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var members = new NpgsqlCommand("SELECT count(*) FROM orleansmembershiptable WHERE status = 3", db);
        Assert.Equal(2L, Convert.ToInt64(await members.ExecuteScalarAsync()));
        await using var states = new NpgsqlCommand("SELECT count(*) FROM orleansstorage", db);
        Assert.True(Convert.ToInt64(await states.ExecuteScalarAsync()) >= 2);
        await host.StopAsync();
    }
}
