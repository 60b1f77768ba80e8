using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Orleans;
using MLExtensions.Diffusion.Search;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>
/// Issue 14: the distributed path (Orleans, localhost clustering, silos in this process) against the local path.
/// (1) Per-trial overhead: no-op trials through <see cref="RoundSearch.RunLocalAsync"/> and through a 1-silo cluster, in
/// rounds of 1 (one round trip per trial) and of 16 (pipelined). (2) Per-shard overhead: 100-row shards written locally
/// and through a 1-silo cluster (model already loaded on the silo). (3) Throughput with 1, 2 and 4 silos of a CPU-bound
/// trial (40 ms of fixed CPU work, calibrated on one thread) and of bulk generation. (4) What an overhead model predicts for N machines; it is a model, not a
/// measurement (this machine has few cores, so 2 and 4 silos share them).
/// Usage: cluster [spinTrials=48] [genRows=200000]
/// </summary>
internal static class ClusterBenchmark
{
    private const string Noop = "bench-noop", Spin = "bench-spin";

    private sealed class Workload(int spinMilliseconds) : ISearchWorkload
    {
        public SearchSpace CreateSpace(string? arguments) => new SearchSpace().AddRange("x", 0, 1).AddRange("y", 0, 1);

        public ITrialRunner CreateRunner(string? arguments, IServiceProvider services) => new Runner(spinMilliseconds);
    }

    private sealed class Runner(int spinMilliseconds) : ITrialRunner
    {
        public Task<TrialResult> RunAsync(TrialSettings settings, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            if (spinMilliseconds > 0) GC.KeepAlive(Burn(IterationsPerMillisecond * spinMilliseconds));
            double x = settings.Parameter.GetDouble("x"), y = settings.Parameter.GetDouble("y");
            return Task.FromResult(new TrialResult
            {
                TrialSettings = settings, Loss = x * x + y * y, Metric = 0,
                Metrics = new Dictionary<string, double> { ["WorkMs"] = clock.Elapsed.TotalMilliseconds, ["Iterations"] = IterationsPerMillisecond * spinMilliseconds },
            });
        }
    }

    /// <summary>Fixed CPU work (not wall time, so trials that share a core take longer), calibrated once on one thread; the
    /// loop is compiled fully optimised from the start, so tiered compilation does not change its speed after calibration.</summary>
    private static readonly long IterationsPerMillisecond = Calibrate();

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization | System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static double Burn(long iterations)
    {
        double sink = 0;
        for (long i = 0; i < iterations; i++) sink += Math.Sqrt(sink + i);
        return sink;
    }

    private static long Calibrate()
    {
        Burn(1_000_000);
        var clock = Stopwatch.StartNew();
        Burn(20_000_000);
        return (long)(20_000_000 / clock.Elapsed.TotalMilliseconds);
    }

    private sealed class Cluster : IAsyncDisposable
    {
        public required List<IHost> Silos { get; init; }
        public required IHost Client { get; init; }
        public IClusterClient Grains => Client.Services.GetRequiredService<IClusterClient>();

        public async ValueTask DisposeAsync()
        {
            await Client.StopAsync();
            Client.Dispose();
            foreach (var s in Enumerable.Reverse(Silos))
            {
                await s.StopAsync();
                s.Dispose();
            }
        }
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static async Task<Cluster> StartAsync(int silos)
    {
        int basePort = 20000 + Random.Shared.Next(0, 20000);
        var connection = new ClusterConnection
        {
            SiloPort = basePort, GatewayPort = basePort + 100, ClusterId = $"bench-{Guid.NewGuid():N}",
            StateFolder = Path.Combine(Path.GetTempPath(), "mld-cluster-bench", Guid.NewGuid().ToString("N")),
        };
        var hosts = new List<IHost>();
        for (int i = 0; i < silos; i++)
        {
            var b = Host.CreateApplicationBuilder();
            b.Logging.SetMinimumLevel(LogLevel.Error);
            int index = i;
            b.UseOrleans(s => s.UseDiffusionCluster(connection, index).AddSearchWorkload(Noop, new Workload(0)).AddSearchWorkload(Spin, new Workload(40)));
            var host = b.Build();
            await host.StartAsync();
            hosts.Add(host);
        }
        var cb = Host.CreateApplicationBuilder();
        cb.Logging.SetMinimumLevel(LogLevel.Error);
        cb.UseOrleansClient(c => c.UseDiffusionCluster(connection));
        var client = cb.Build();
        await client.StartAsync();
        return new Cluster { Silos = hosts, Client = client };
    }

    private static string F(double v, string f = "F2") => v.ToString(f, CultureInfo.InvariantCulture);

    public static void Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task RunAsync(string[] args)
    {
        int spinTrials = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 48;
        long genRows = args.Length > 2 ? long.Parse(args[2], CultureInfo.InvariantCulture) : 200_000;
        string model = Path.Combine(ShippedData.ModelsFolder(), "penguins", "model.zip");
        Console.WriteLine($"cores={Environment.ProcessorCount}; silos run in this process with localhost clustering and file state storage.");
        var space = new Workload(0).CreateSpace(null);

        // (1) Per-trial overhead.
        const int noopTrials = 400;
        await RoundSearch.RunLocalAsync(space, new RandomSearchTuner(space, 1), new Runner(0), 50, 16);   // warm-up
        var clock = Stopwatch.StartNew();
        await RoundSearch.RunLocalAsync(space, new RandomSearchTuner(space, 1), new Runner(0), noopTrials, 16);
        double localTrial = clock.Elapsed.TotalMilliseconds / noopTrials;
        double clusterTrial16, clusterTrial1, localShard, clusterShard, clusterShard64;
        const int shards = 60, shardRows = 100;
        await using (var one = await StartAsync(1))
        {
            var warm = new ClusterSearchRequest { Workload = Noop, Tuner = "random", Seed = 1, MaxTrials = 50, BatchSize = 16 };
            await ClusterSearch.RunAsync(one.Grains, "warm", warm);
            clock.Restart();
            await ClusterSearch.RunAsync(one.Grains, "noop16", warm with { MaxTrials = noopTrials });
            clusterTrial16 = clock.Elapsed.TotalMilliseconds / noopTrials;
            clock.Restart();
            await ClusterSearch.RunAsync(one.Grains, "noop1", warm with { MaxTrials = 100, BatchSize = 1 });
            clusterTrial1 = clock.Elapsed.TotalMilliseconds / 100;

            // (2) Per-shard overhead (the silo's model is loaded by the warm-up job).
            var job = new GenerationRequest { Model = model, OutputFolder = Folder(), Rows = shards * shardRows, Seed = 1, ShardRows = shardRows, Format = ShardFormat.Csv, Steps = 8 };
            await ClusterGeneration.RunAsync(one.Grains, "warm-gen", job with { OutputFolder = Folder(), Rows = 2 * shardRows });
            ClusterGeneration.RunLocal(job with { OutputFolder = Folder(), Rows = 2 * shardRows });
            // The local reference with the model loaded once, as a silo keeps it; local and one-at-a-time cluster runs are
            // interleaved in 3 rounds of 20 shards and the best round of each is kept (every shard is flushed to disk,
            // whose latency varies on a shared machine).
            var loaded = new Microsoft.ML.MLContext(0).Diffusion().LoadModel(model);
            (localShard, clusterShard) = (double.PositiveInfinity, double.PositiveInfinity);
            for (int round = 0; round < 3; round++)
            {
                var localJob = job with { OutputFolder = Folder(), Rows = 20 * shardRows };
                ShardFiles.PrepareFolder(localJob);
                clock.Restart();
                for (int i = 0; i < 20; i++) ShardFiles.WriteShard(localJob, i, loaded);
                localShard = Math.Min(localShard, clock.Elapsed.TotalMilliseconds / 20);
                clock.Restart();
                await ClusterGeneration.RunAsync(one.Grains, $"gen1-{round}", localJob with { OutputFolder = Folder(), MaxParallelShards = 1 });
                clusterShard = Math.Min(clusterShard, clock.Elapsed.TotalMilliseconds / 20);
            }
            clock.Restart();
            await ClusterGeneration.RunAsync(one.Grains, "gen64", job with { OutputFolder = Folder() });
            clusterShard64 = clock.Elapsed.TotalMilliseconds / shards;
        }
        Console.WriteLine();
        Console.WriteLine("| path | per trial (no-op runner) | per shard (100 rows, 8 Heun steps, CSV, written and flushed to disk; best of 3 rounds of 20) |");
        Console.WriteLine("| --- | ---: | ---: |");
        Console.WriteLine($"| local (RoundSearch.RunLocalAsync / ShardFiles.WriteShard, model loaded once) | {F(localTrial, "F3")} ms | {F(localShard)} ms |");
        Console.WriteLine($"| 1 silo, one item at a time (rounds of 1 / 1 shard in flight) | {F(clusterTrial1, "F3")} ms | {F(clusterShard)} ms |");
        Console.WriteLine($"| overhead per item of the distributed path, one at a time | {F(clusterTrial1 - localTrial, "F3")} ms | {F(clusterShard - localShard)} ms |");
        Console.WriteLine($"| 1 silo, pipelined (rounds of 16 / 64 shards in flight) | {F(clusterTrial16, "F3")} ms | {F(clusterShard64)} ms |");

        // (3) Throughput with 1, 2, 4 silos.
        var spinWork = new double[5];
        var genWork = new double[5];
        var spinDiag = new string[5];
        clock.Restart();
        await RoundSearch.RunLocalAsync(space, new RandomSearchTuner(space, 2), new Runner(40), 16, 16);
        double localSpin = clock.Elapsed.TotalMilliseconds / 16;
        Console.WriteLine($"(calibration: {IterationsPerMillisecond} iterations per ms on one thread; one 40-ms trial took {F(localSpin)} ms here)");
        var genJob = new GenerationRequest { Model = model, OutputFolder = Folder(), Rows = genRows, Seed = 3, ShardRows = 10_000, Format = ShardFormat.Parquet };
        clock.Restart();
        ClusterGeneration.RunLocal(genJob with { OutputFolder = Folder() });
        double localGen = genRows / clock.Elapsed.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine($"| silos | spin trials/s ({spinTrials} trials of 40 ms CPU, rounds of 16) | generated rows/s ({genRows} rows, shards of 10000, model plan, Parquet) |");
        Console.WriteLine("| --- | ---: | ---: |");
        Console.WriteLine($"| local, one thread | {F(1000 / localSpin, "F1")} | {F(localGen, "F0")} |");
        foreach (int n in new[] { 1, 2, 4 })
        {
            await using var cluster = await StartAsync(n);
            await ClusterGeneration.RunAsync(cluster.Grains, "warm", genJob with { OutputFolder = Folder(), Rows = 10_000L * n, ShardRows = 10_000 });
            clock.Restart();
            var (spun, _) = await ClusterSearch.RunAsync(cluster.Grains, "spin", new ClusterSearchRequest { Workload = Spin, Tuner = "random", Seed = 2, MaxTrials = spinTrials, BatchSize = 16 });
            spinWork[n] = spinTrials / clock.Elapsed.TotalSeconds;
            if (spun.Trials.Count(t => t.IsSuccess) != spinTrials) throw new InvalidOperationException($"Spin trials failed: {spun.Trials.First(t => !t.IsSuccess).Error}");
            spinDiag[n] = $"{n} silo(s): mean in-trial work {F(spun.Trials.Average(t => t.Metrics!["WorkMs"]))} ms, {spun.Trials.Average(t => t.Metrics!["Iterations"]):F0} iterations, wall of the search {F(clock.Elapsed.TotalMilliseconds, "F0")} ms";
            clock.Restart();
            await ClusterGeneration.RunAsync(cluster.Grains, "gen", genJob with { OutputFolder = Folder() });
            genWork[n] = genRows / clock.Elapsed.TotalSeconds;
            Console.WriteLine($"| {n} | {F(spinWork[n], "F1")} | {F(genWork[n], "F0")} |");
        }

        foreach (var line in spinDiag.Where(l => l is not null)) Console.WriteLine($"({line})");

        // (4) The overhead model: an item (trial or shard) costs w of work plus o of per-item overhead on a worker, and the
        // coordinator handles items one at a time at c each; N workers (machines x items each runs at once) finish an item
        // every max((w + o) / N, c).
        double c = clusterTrial16;                    // coordinator-bound: no-op trials pipelined on one silo
        double oTrial = Math.Max(0, clusterTrial1 - localTrial), oShard = Math.Max(0, clusterShard - localShard);
        double wSpin = localSpin, wShard = 10_000 / localGen * 1000;
        Console.WriteLine();
        Console.WriteLine($"MODEL (not measured): per item max((w + o) / N, c), with c = {F(c, "F3")} ms (coordinator), o = {F(oTrial, "F3")} ms per trial, {F(oShard)} ms per shard;");
        Console.WriteLine($"w = {F(wSpin)} ms per 40-ms trial and {F(wShard)} ms per 10000-row shard as measured here on one thread.");
        Console.WriteLine("| workers N (machines x items at once per machine) | predicted speed-up, 40-ms trials | predicted speed-up, 10000-row shards |");
        Console.WriteLine("| ---: | ---: | ---: |");
        foreach (int n in new[] { 1, 2, 4, 8, 16, 64, 256 })
            Console.WriteLine($"| {n} | {F(wSpin / Math.Max((wSpin + oTrial) / n, c), "F1")} | {F(wShard / Math.Max((wShard + oShard) / n, c), "F1")} |");
    }

    private static string Folder() => Path.Combine(Path.GetTempPath(), "mld-cluster-bench", Guid.NewGuid().ToString("N"));
}
