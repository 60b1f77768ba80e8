using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Persistence.FileStorage;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Orleans.Storage;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>Configures silos and clients for distributed searches and generation jobs.</summary>
public static class ClusterHosting
{
    /// <summary>The name of the grain storage that search and generation state is kept in.</summary>
    public const string StorageName = "diffusion";

    /// <summary>The ADO.NET invariant of PostgreSQL (Npgsql).</summary>
    public const string PostgresInvariant = "Npgsql";

    /// <summary>How long a call may wait for its answer (a trial or a shard can run long; a dead silo's calls fail sooner,
    /// as soon as the membership declares it dead): 2 hours.</summary>
    public static TimeSpan DefaultResponseTimeout { get; } = TimeSpan.FromHours(2);

    /// <summary>Registers the grains' services on a silo: the trial-runner pool and the model cache; sets the response
    /// timeout to <see cref="DefaultResponseTimeout"/>. Workloads are added with <see cref="AddSearchWorkload"/>, and the
    /// storage named <see cref="StorageName"/> by <see cref="UseDiffusionCluster(ISiloBuilder, ClusterConnection, int)"/> (or by the caller).</summary>
    /// <param name="builder">The silo builder.</param>
    /// <returns>The builder.</returns>
    public static ISiloBuilder AddDiffusionWorkers(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<TrialRunnerPool>();
        builder.Services.AddSingleton<ModelCache>();
        builder.Services.AddSingleton<WorkSpreader>();
        builder.Services.AddKeyedSingleton<ISearchWorkload>(SamplingPlanWorkload.Name, new SamplingPlanWorkload());
        builder.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = DefaultResponseTimeout);
        return builder;
    }

    /// <summary>Registers a search workload by name (on every silo of the cluster).</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The name requests use.</param>
    /// <param name="workload">The workload.</param>
    /// <returns>The builder.</returns>
    public static ISiloBuilder AddSearchWorkload(this ISiloBuilder builder, string name, ISearchWorkload workload)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(workload);
        builder.Services.AddKeyedSingleton(name, workload);
        return builder;
    }

    /// <summary>Joins a silo to the cluster <paramref name="connection"/> names: localhost clustering with file storage in
    /// <see cref="ClusterConnection.StateFolder"/> for development, or ADO.NET clustering and storage on PostgreSQL.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="connection">The cluster.</param>
    /// <param name="siloIndex">This silo's number on the machine (0, 1, ...): its ports are the base ports + index.
    /// With localhost clustering silo 0 is the primary the others join.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="siloIndex"/> is negative or above 1000.</exception>
    public static ISiloBuilder UseDiffusionCluster(this ISiloBuilder builder, ClusterConnection connection, int siloIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connection);
        if (siloIndex is < 0 or > 1000) throw new ArgumentOutOfRangeException(nameof(siloIndex), siloIndex, "The silo index must lie in [0, 1000].");
        int siloPort = connection.SiloPort + siloIndex, gatewayPort = connection.GatewayPort + siloIndex;
        if (connection.PostgresConnectionString is { } pg)
        {
            builder.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (connection.ClusterId, connection.ServiceId));
            if (connection.AdvertisedAddress is { } address) builder.ConfigureEndpoints(address, siloPort, gatewayPort, listenOnAnyHostAddress: true);
            else builder.ConfigureEndpoints(siloPort, gatewayPort, listenOnAnyHostAddress: true);
            builder.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = (PostgresInvariant, pg));
            builder.Services.AddAdoNetGrainStorage(StorageName, o => (o.Invariant, o.ConnectionString) = (PostgresInvariant, pg));
        }
        else
        {
            builder.UseLocalhostClustering(siloPort, gatewayPort, new IPEndPoint(IPAddress.Loopback, connection.SiloPort), connection.ServiceId, connection.ClusterId);
            builder.AddFileGrainStorage(StorageName, o => o.RootDirectory = connection.StateFolder);
        }
        return builder.AddDiffusionWorkers();
    }

    /// <summary>Connects a client to the cluster <paramref name="connection"/> names, with the long response timeout.</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="connection">The cluster.</param>
    /// <param name="gateways">With localhost clustering, how many local silos' gateways to use (silo indexes 0..n-1).</param>
    /// <returns>The builder.</returns>
    public static IClientBuilder UseDiffusionCluster(this IClientBuilder builder, ClusterConnection connection, int gateways = 1)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.PostgresConnectionString is { } pg)
        {
            builder.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (connection.ClusterId, connection.ServiceId));
            builder.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = (PostgresInvariant, pg));
        }
        else
        {
            builder.UseLocalhostClustering(Enumerable.Range(0, Math.Max(1, gateways)).Select(i => connection.GatewayPort + i).ToArray(), connection.ServiceId, connection.ClusterId);
        }
        builder.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = DefaultResponseTimeout);
        return builder;
    }

    /// <summary>Whether a call failed because the silo running it died, was unreachable or did not answer in time (work
    /// that must run again elsewhere), rather than because the work itself failed.</summary>
    /// <param name="e">The exception.</param>
    /// <returns>True for silo-unavailable, message rejections, connection failures and timeouts.</returns>
    public static bool IsLostWork(Exception e) =>
        e is SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException or TimeoutException
            or ClientNotAvailableException or GatewayTooBusyException;

    /// <summary>Calls <paramref name="call"/> until it succeeds, retrying (after a short back-off) when the work was lost
    /// (<see cref="IsLostWork"/>) or a stale coordinator's state write was refused.</summary>
    internal static async Task<T> CallWithRetryAsync<T>(Func<Task<T>> call, int maxAttempts, CancellationToken cancellationToken)
    {
        if (maxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(maxAttempts), maxAttempts, "At least one attempt.");
        for (int attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return await call().WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when ((IsLostWork(e) || e is InconsistentStateException) && attempt < maxAttempts)
            {
                // Lost with its silo, or a stale activation's write lost the race with a newer one: call again.
                await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

/// <summary>Where a cluster is: localhost clustering for development or a PostgreSQL database (ADO.NET clustering and
/// storage), parsed from the CLI's <c>--cluster</c> value.</summary>
public sealed record ClusterConnection
{
    /// <summary>The PostgreSQL (Npgsql) connection string; null for localhost clustering.</summary>
    public string? PostgresConnectionString { get; init; }

    /// <summary>The cluster id (silos and clients of one cluster share it).</summary>
    public string ClusterId { get; init; } = "mldiffusion";

    /// <summary>The service id (the key of stored state: keep it across restarts).</summary>
    public string ServiceId { get; init; } = "mldiffusion";

    /// <summary>The silo-to-silo port of silo 0 (silo i uses this + i); with localhost clustering, the primary's.</summary>
    public int SiloPort { get; init; } = 11111;

    /// <summary>The client gateway port of silo 0 (silo i uses this + i).</summary>
    public int GatewayPort { get; init; } = 30000;

    /// <summary>With PostgreSQL clustering, the address this silo advertises to the others and to clients (null: the
    /// machine's first address for its host name, as Orleans picks it); silos listen on every address.</summary>
    public IPAddress? AdvertisedAddress { get; init; }

    /// <summary>With localhost clustering, the folder of the stored search and job state (Orleans file grain storage),
    /// shared by the silos of the machine; default <c>&lt;temp&gt;/mldiffusion-cluster-state</c>.</summary>
    public string StateFolder { get; init; } = Path.Combine(Path.GetTempPath(), "mldiffusion-cluster-state");

    /// <summary>Parses <c>localhost</c>, <c>localhost:&lt;silo port&gt;:&lt;gateway port&gt;</c>, or a PostgreSQL
    /// connection string (<c>Host=...;Database=...;Username=...</c>, optionally prefixed <c>postgres:</c>).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The connection.</returns>
    /// <exception cref="ArgumentException">The text is neither form (the message shows both).</exception>
    public static ClusterConnection Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        text = text.Trim();
        if (text.StartsWith("localhost", StringComparison.OrdinalIgnoreCase))
        {
            var parts = text.Split(':');
            if (parts.Length == 1) return new ClusterConnection();
            if (parts.Length == 3 && int.TryParse(parts[1], out int silo) && int.TryParse(parts[2], out int gateway) && silo is > 0 and < 65536 && gateway is > 0 and < 65536)
                return new ClusterConnection { SiloPort = silo, GatewayPort = gateway };
        }
        else
        {
            string pg = text.StartsWith("postgres:", StringComparison.OrdinalIgnoreCase) ? text["postgres:".Length..] : text;
            if (pg.Contains('=') && pg.Contains("host", StringComparison.OrdinalIgnoreCase)) return new ClusterConnection { PostgresConnectionString = pg };
        }
        throw new ArgumentException(
            $"'{text}' is not a cluster: use 'localhost' (or 'localhost:<silo port>:<gateway port>') for a development cluster on this machine, " +
            "or a PostgreSQL connection string such as 'Host=db;Database=orleans;Username=orleans;Password=...' for ADO.NET clustering.", nameof(text));
    }
}
