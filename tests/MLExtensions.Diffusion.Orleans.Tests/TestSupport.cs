using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using MLExtensions.Diffusion.Search;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Persistence.FileStorage;
using Orleans.TestingHost;

namespace MLExtensions.Diffusion.Orleans.Tests;

/// <summary>A cheap deterministic workload: loss (x - 0.3)^2 + (y - 0.6)^2 + 0.1 k on x in [-2, 2], y in [0, 1] and a
/// choice k; trials with x &gt; 1.8 throw (a failed trial). The arguments are a test's tag: executions are counted per tag,
/// and a test may hold the first start of chosen trials until it releases them.</summary>
internal sealed class SyntheticWorkload : ISearchWorkload
{
    public const string Name = "synthetic";

    public static readonly ConcurrentDictionary<(string Tag, int Trial), int> Completed = new();
    public static readonly ConcurrentDictionary<string, Hold> Holds = new();

    public static SearchSpace Space() => new SearchSpace().AddRange("x", -2, 2).AddRange("y", 0, 1).AddChoice("k", 0, 1, 2);

    public SearchSpace CreateSpace(string? arguments) => Space();

    public ITrialRunner CreateRunner(string? arguments, IServiceProvider services)
    {
        var silo = services.GetService<global::Orleans.Runtime.ILocalSiloDetails>()?.SiloAddress.ToString() ?? "local";
        return new Runner(arguments ?? "", silo);
    }

    public static int CompletedCount(string tag, int trial) => Completed.TryGetValue((tag, trial), out int n) ? n : 0;

    /// <summary>Holds the first start of the trials in <see cref="Trials"/> until <see cref="Release"/> completes.</summary>
    internal sealed class Hold(IReadOnlySet<int> trials)
    {
        public IReadOnlySet<int> Trials { get; } = trials;
        public ConcurrentDictionary<int, string> Started { get; } = new();
        public TaskCompletionSource AllStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public sealed class Runner(string tag, string silo) : ITrialRunner
    {
        public async Task<TrialResult> RunAsync(TrialSettings settings, CancellationToken cancellationToken)
        {
            if (Holds.TryGetValue(tag, out var hold) && hold.Trials.Contains(settings.TrialId) && hold.Started.TryAdd(settings.TrialId, silo))
            {
                if (hold.Started.Count == hold.Trials.Count) hold.AllStarted.TrySetResult();
                await hold.Release.Task.WaitAsync(cancellationToken);
            }
            else
            {
                await Task.Yield();
            }
            var p = settings.Parameter;
            double x = p.GetDouble("x"), y = p.GetDouble("y");
            int k = p.GetInt32("k");
            Completed.AddOrUpdate((tag, settings.TrialId), 1, (_, n) => n + 1);
            if (x > 1.8) throw new InvalidOperationException($"x = {x} is out of the model's range.");
            double loss = (x - 0.3) * (x - 0.3) + (y - 0.6) * (y - 0.6) + 0.1 * k;
            return new TrialResult { TrialSettings = settings, Loss = loss, Metric = -loss, Metrics = new Dictionary<string, double> { ["Cost"] = k + 1 } };
        }
    }
}

/// <summary>Holds the first start of chosen shards until released (registered on the silos of a generation kill test).</summary>
internal sealed class ShardHold : IShardStartHook
{
    public static ShardHold? Current { get; set; }

    public required IReadOnlySet<int> Shards { get; init; }
    public ConcurrentDictionary<int, string> Started { get; } = new();
    public TaskCompletionSource AllStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task StartingAsync(int index, string silo)
    {
        if (Shards.Contains(index) && Started.TryAdd(index, silo))
        {
            if (Started.Count == Shards.Count) AllStarted.TrySetResult();
            await Release.Task;
        }
    }
}

internal sealed class HookProxy : IShardStartHook
{
    public Task StartingAsync(int index, string silo) => ShardHold.Current?.StartingAsync(index, silo) ?? Task.CompletedTask;
}

internal static class TestCluster3
{
    /// <summary>An in-process cluster of <paramref name="silos"/> silos with the diffusion grains, the synthetic workload,
    /// file storage in a fresh folder shared by all silos (as a database would be), and fast failure detection.</summary>
    public static async Task<InProcessTestCluster> StartAsync(int silos = 3)
    {
        string state = Path.Combine(Path.GetTempPath(), "mld-orleans-tests", Guid.NewGuid().ToString("N"));
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddFileGrainStorage(ClusterHosting.StorageName, o => o.RootDirectory = state);
            silo.AddDiffusionWorkers();
            silo.AddSearchWorkload(SyntheticWorkload.Name, new SyntheticWorkload());
            silo.Services.AddSingleton<IShardStartHook, HookProxy>();
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromMilliseconds(500);
                o.NumMissedProbesLimit = 1;
                o.NumVotesForDeathDeclaration = 1;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(1);
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(1);
            });
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}

internal static class Repo
{
    public static string File(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine([dir.FullName, .. parts]);
            if (System.IO.File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"{Path.Combine(parts)} not found above {AppContext.BaseDirectory}.");
    }

    public static string TempFolder()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mld-orleans-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
