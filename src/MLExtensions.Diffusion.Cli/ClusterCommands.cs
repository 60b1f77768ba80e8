using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Orleans;
using MLExtensions.Diffusion.ScheduleSearch;
using MLExtensions.Diffusion.Search;

namespace MLExtensions.Diffusion.Cli;

/// <summary>The Orleans cluster entry points (issue 14): <c>mldiffusion silo</c>, and <c>--cluster</c> on search and sample.</summary>
internal static class ClusterCommands
{
    private const string ClusterHelp = "'localhost' (development: silos on this machine, silo 0 the primary, state in a file folder) or a " +
                                       "PostgreSQL connection string 'Host=...;Database=...;Username=...;Password=...' (ADO.NET clustering and storage).";

    /// <summary>The <c>--cluster</c> option of search and sample: run the work on a cluster, as a client.</summary>
    public static Option<string?> ClusterOption() => new("--cluster") { Description = "Run on an Orleans cluster as a client: " + ClusterHelp };

    /// <summary>The <c>--batch</c> option of search: points proposed per round with <c>--cluster</c>.</summary>
    public static Option<int> BatchOption() => new("--batch") { Description = "With --cluster: points the tuner proposes per round, run in parallel (1 gives the local search's trials).", DefaultValueFactory = _ => 4 };

    /// <summary>The <c>--shard-rows</c> option of sample.</summary>
    public static Option<int> ShardRowsOption() => new("--shard-rows") { Description = "With --cluster: rows per shard file; --output is then a folder of part-NNNNNN files.", DefaultValueFactory = _ => 100_000 };

    /// <summary>The <c>--format</c> option of sample.</summary>
    public static Option<ShardFormat> FormatOption() => new("--format") { Description = "With --cluster: shard format, Parquet or Csv.", DefaultValueFactory = _ => ShardFormat.Parquet };

    /// <summary><c>mldiffusion silo</c>: runs one silo until stopped.</summary>
    public static Command Silo(CliContext ctx)
    {
        var cluster = new Option<string>("--cluster") { Description = "The cluster to join: " + ClusterHelp, Required = true };
        var index = new Option<int>("--index") { Description = "This silo's number on the machine: ports 11111 + index (silo-to-silo) and 30000 + index (clients).", DefaultValueFactory = _ => 0 };
        var state = new Option<string?>("--state") { Description = "With localhost: the folder of stored search and job state (default: <temp>/mldiffusion-cluster-state)." };
        var ports = new Option<string?>("--ports") { Description = "Base ports '<silo>,<gateway>' (default 11111,30000); silo i listens on base + i. Every silo and client of a localhost cluster must use the same." };
        var advertise = new Option<string?>("--advertise") { Description = "With PostgreSQL: the IP address other machines reach this silo at (default: the first address of the host name)." };
        var init = new Option<bool>("--init-database") { Description = "With PostgreSQL: install the Orleans tables first (the Orleans scripts embedded in this tool) unless present." };
        var cmd = new Command("silo", "Run an Orleans silo that executes search trials and generation shards for 'search --cluster' and 'sample --cluster'; stops on Ctrl-C.")
        {
            cluster, index, state, ports, advertise, init,
        };
        cmd.SetAction(CliApp.Guard(ctx, (p, ct) =>
        {
            var connection = Parse(p.GetValue(cluster)!);
            if (p.GetValue(state) is { } folder) connection = connection with { StateFolder = Path.GetFullPath(folder) };
            if (p.GetValue(ports) is { } portText)
            {
                var parts = portText.Split(',');
                if (parts.Length != 2 || !int.TryParse(parts[0], out int sp) || !int.TryParse(parts[1], out int gp) || sp is < 1 or > 64000 || gp is < 1 or > 64000)
                    throw new CliException($"--ports must be '<silo port>,<gateway port>', not '{portText}'.", ExitCodes.UsageError);
                connection = connection with { SiloPort = sp, GatewayPort = gp };
            }
            if (p.GetValue(advertise) is { } ip)
                connection = connection with { AdvertisedAddress = System.Net.IPAddress.TryParse(ip, out var a) ? a : throw new CliException($"--advertise must be an IP address, not '{ip}'.", ExitCodes.UsageError) };
            int i = p.GetValue(index);
            if (i is < 0 or > 1000) throw new CliException("--index must lie in [0, 1000].", ExitCodes.UsageError);
            if (p.GetValue(init) && connection.PostgresConnectionString is { } pg)
                ctx.Out.WriteLine(PostgresSchema.InstallAsync(pg, ct).GetAwaiter().GetResult() ? "Installed the Orleans tables." : "The Orleans tables are already installed.");
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.UseOrleans(silo => silo.UseDiffusionCluster(connection, i));
            using var host = builder.Build();
            host.StartAsync(ct).GetAwaiter().GetResult();
            ctx.Out.WriteLine($"Silo {i} is up ({(connection.PostgresConnectionString is null ? "localhost clustering" : "PostgreSQL clustering")}); Ctrl-C stops it.");
            try
            {
                Task.Delay(Timeout.Infinite, ct).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }
            host.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
            ctx.Out.WriteLine($"Silo {i} stopped.");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    /// <summary>Runs a search's trials on the cluster: the data rows the search selected are written to
    /// <paramref name="outputFolder"/> (which every silo must reach) for the silos' runners.</summary>
    public static SearchResult Search(CliContext ctx, string cluster, string model, float[] rows, int d, SearchLoss loss, string tuner, int seed,
        int trials, int batch, string outputFolder, Action<double, string> report, CancellationToken ct)
    {
        if (batch < 1) throw new CliException("--batch must be at least 1.", ExitCodes.UsageError);
        Directory.CreateDirectory(outputFolder);
        string data = Path.GetFullPath(Path.Combine(outputFolder, "cluster-data.csv"));
        var csv = new StringBuilder(string.Join(',', Enumerable.Range(1, d).Select(j => $"f{j}")) + "\n");
        for (int r = 0; r < rows.Length / d; r++)
            csv.Append(string.Join(',', Enumerable.Range(0, d).Select(j => rows[r * d + j].ToString("R", CultureInfo.InvariantCulture)))).Append('\n');
        CliApp.WriteTextAtomic(data, csv.ToString());
        var args = new SamplingPlanArguments { Model = Path.GetFullPath(model), Data = data, Loss = loss, Seed = seed };
        var request = new ClusterSearchRequest { Workload = SamplingPlanWorkload.Name, Arguments = args.ToJson(), Tuner = tuner, Seed = seed, MaxTrials = trials, BatchSize = batch };
        string id = $"search-{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(request.ToString())))[..16]}";
        return WithClient(cluster, ct, async grains =>
        {
            var run = ClusterSearch.RunAsync(grains, id, request, cancellationToken: ct);
            var coordinator = grains.GetGrain<ISearchCoordinatorGrain>(id);
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(500, ct));
                var progress = await coordinator.GetProgressAsync();
                report(progress.Completed / (double)trials, $"trial {progress.Completed}/{trials} on the cluster");
            }
            var (result, retries) = await run;
            if (retries > 0) ctx.Error.WriteLine($"{retries} trial start(s) were lost with their silo and run again.");
            return result;
        });
    }

    /// <summary>Writes generated rows as shards in a folder through the cluster.</summary>
    public static GenerationOutcome Sample(string cluster, string model, string folder, long rows, int seed, int? steps, GenerateSamplerKind? sampler,
        int shardRows, ShardFormat format, Action<double, string> report, CancellationToken ct)
    {
        var request = new GenerationRequest
        {
            Model = Path.GetFullPath(model), OutputFolder = Path.GetFullPath(folder), Rows = rows, Seed = seed, Steps = steps, Sampler = sampler,
            ShardRows = shardRows, Format = format,
        };
        try
        {
            request.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message, ExitCodes.UsageError);
        }
        string id = $"generate-{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(request.ToString())))[..16]}";
        return WithClient(cluster, ct, async grains =>
        {
            var run = ClusterGeneration.RunAsync(grains, id, request, cancellationToken: ct);
            var job = grains.GetGrain<IGenerationJobGrain>(id);
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(500, ct));
                int done = await job.GetCompletedShardsAsync();
                report(done / (double)request.ShardCount, $"shard {done}/{request.ShardCount} on the cluster");
            }
            return await run;
        });
    }

    private static ClusterConnection Parse(string text)
    {
        try
        {
            return ClusterConnection.Parse(text);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message, ExitCodes.UsageError);
        }
    }

    private static T WithClient<T>(string cluster, CancellationToken ct, Func<IGrainFactory, Task<T>> work)
    {
        var connection = Parse(cluster);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client => client.UseDiffusionCluster(connection));
        using var host = builder.Build();
        try
        {
            host.StartAsync(ct).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new CliException($"Cannot connect to the cluster '{cluster}': {e.Message}");
        }
        try
        {
            return work(host.Services.GetRequiredService<IClusterClient>()).GetAwaiter().GetResult();
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
        finally
        {
            host.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
    }
}
