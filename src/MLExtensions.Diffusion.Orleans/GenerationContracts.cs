using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using Orleans.Concurrency;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>The file format of generated shards.</summary>
public enum ShardFormat
{
    /// <summary>Apache Parquet: a long <c>Row</c> column and one float column per feature, one row group.</summary>
    Parquet,

    /// <summary>CSV: a header <c>Row,&lt;features&gt;</c>, then one line per row (floats in round-trip form).</summary>
    Csv,
}

/// <summary>A bulk generation: rows [0, <see cref="Rows"/>) of the stream (model, <see cref="Seed"/>), cut into shards of
/// <see cref="ShardRows"/> rows written as files <c>part-NNNNNN.parquet</c> (or <c>.csv</c>) in <see cref="OutputFolder"/>.
/// Row i depends only on (seed, i), so the shards concatenated are <c>model.Generate(Rows, Seed)</c>.</summary>
[GenerateSerializer, Alias("MLExtensions.Diffusion.Orleans.GenerationRequest")]
public sealed record GenerationRequest
{
    /// <summary>The model zip (a path every silo can read).</summary>
    [Id(0)] public required string Model { get; init; }

    /// <summary>The folder of the shard files (shared by every silo), created if missing.</summary>
    [Id(1)] public required string OutputFolder { get; init; }

    /// <summary>Rows to generate, in [1, 2^40).</summary>
    [Id(2)] public long Rows { get; init; }

    /// <summary>The stream's seed.</summary>
    [Id(3)] public int Seed { get; init; }

    /// <summary>Rows per shard, in [1, 2^24].</summary>
    [Id(4)] public int ShardRows { get; init; } = 100_000;

    /// <summary>The shard format.</summary>
    [Id(5)] public ShardFormat Format { get; init; } = ShardFormat.Parquet;

    /// <summary>Solver steps on the plan's schedule; null: the model's sampling plan.</summary>
    [Id(6)] public int? Steps { get; init; }

    /// <summary>The solver; null: the plan's. All solvers are deterministic, so rows do not depend on the sharding.</summary>
    [Id(7)] public GenerateSamplerKind? Sampler { get; init; }

    /// <summary>Shards written at once across the cluster, at least 1.</summary>
    [Id(8)] public int MaxParallelShards { get; init; } = 64;

    /// <summary>Starts of a shard before the job fails when its silo dies or does not answer, at least 1.</summary>
    [Id(9)] public int MaxAttempts { get; init; } = 5;

    /// <summary>The most rows a job may ask for: 2^40 - 1.</summary>
    public const long MaximumRows = (1L << 40) - 1;

    /// <summary>The most rows in one shard (one array in memory): 2^24.</summary>
    public const int MaximumShardRows = 1 << 24;

    /// <summary>The number of shards.</summary>
    public int ShardCount => (int)((Rows + ShardRows - 1) / ShardRows);

    /// <summary>Checks the request.</summary>
    /// <exception cref="ArgumentException">A field is out of range (the message names it).</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Model)) throw new ArgumentException("The generation request needs a model path.", nameof(Model));
        if (string.IsNullOrWhiteSpace(OutputFolder)) throw new ArgumentException("The generation request needs an output folder.", nameof(OutputFolder));
        if (Rows < 1 || Rows > MaximumRows) throw new ArgumentException($"Rows must lie in [1, 2^40), not {Rows}.", nameof(Rows));
        if (ShardRows < 1 || ShardRows > MaximumShardRows) throw new ArgumentException($"ShardRows must lie in [1, {MaximumShardRows}], not {ShardRows}.", nameof(ShardRows));
        if ((Rows + ShardRows - 1) / ShardRows > 10_000_000) throw new ArgumentException($"{Rows} rows in shards of {ShardRows} make more than 10,000,000 shards; use larger shards.", nameof(ShardRows));
        if (!Enum.IsDefined(Format)) throw new ArgumentException($"Unknown shard format {Format}.", nameof(Format));
        if (Steps is < 1 or > 100_000) throw new ArgumentException($"Steps must lie in [1, 100000], not {Steps}.", nameof(Steps));
        if (Sampler is { } k && !Enum.IsDefined(k)) throw new ArgumentException($"Unknown sampler {k}.", nameof(Sampler));
        if (MaxParallelShards < 1 || MaxParallelShards > 100_000) throw new ArgumentException($"MaxParallelShards must lie in [1, 100000], not {MaxParallelShards}.", nameof(MaxParallelShards));
        if (MaxAttempts < 1 || MaxAttempts > 100) throw new ArgumentException($"MaxAttempts must lie in [1, 100], not {MaxAttempts}.", nameof(MaxAttempts));
    }

    /// <summary>Shard <paramref name="index"/>: its first row and row count.</summary>
    /// <param name="index">The shard, in [0, <see cref="ShardCount"/>).</param>
    /// <returns>The range.</returns>
    public (long Start, int Count) Shard(int index)
    {
        if (index < 0 || index >= ShardCount) throw new ArgumentOutOfRangeException(nameof(index), index, $"The job has {ShardCount} shards.");
        long start = (long)index * ShardRows;
        return (start, (int)Math.Min(ShardRows, Rows - start));
    }
}

/// <summary>One written (or found) shard.</summary>
[GenerateSerializer, Alias("MLExtensions.Diffusion.Orleans.ShardOutcome")]
public sealed record ShardOutcome
{
    /// <summary>The shard number.</summary>
    [Id(0)] public int Index { get; init; }

    /// <summary>Its first row.</summary>
    [Id(1)] public long Start { get; init; }

    /// <summary>Its rows.</summary>
    [Id(2)] public int Count { get; init; }

    /// <summary>The file.</summary>
    [Id(3)] public required string Path { get; init; }

    /// <summary>Whether this call wrote it (false: a complete file was already there and was kept).</summary>
    [Id(4)] public bool Written { get; init; }

    /// <summary>The silo that handled it.</summary>
    [Id(5)] public string? Silo { get; init; }

    /// <summary>Which start of the shard produced this outcome.</summary>
    [Id(6)] public int Attempt { get; init; } = 1;

    /// <summary>Milliseconds spent on it (generation and writing).</summary>
    [Id(7)] public double DurationMilliseconds { get; init; }
}

/// <summary>A finished generation job.</summary>
[GenerateSerializer, Alias("MLExtensions.Diffusion.Orleans.GenerationOutcome")]
public sealed record GenerationOutcome
{
    /// <summary>The shards, by index.</summary>
    [Id(0)] public required List<ShardOutcome> Shards { get; init; }

    /// <summary>Shard starts lost with their silo and re-run.</summary>
    [Id(1)] public int Retries { get; init; }

    /// <summary>Wall time of the run that finished it, in milliseconds.</summary>
    [Id(2)] public double ElapsedMilliseconds { get; init; }
}

/// <summary>The stored state of a generation job.</summary>
[GenerateSerializer, Alias("MLExtensions.Diffusion.Orleans.GenerationState")]
public sealed class GenerationState
{
    /// <summary>The request; null before the first run.</summary>
    [Id(0)] public GenerationRequest? Request { get; set; }

    /// <summary>The finished shards.</summary>
    [Id(1)] public List<ShardOutcome> Shards { get; set; } = [];

    /// <summary>Shard starts lost with their silo and re-run.</summary>
    [Id(2)] public int Retries { get; set; }
}

/// <summary>Writes one shard on the silo that activates it.</summary>
public interface IShardGrain : IGrainWithStringKey
{
    /// <summary>Writes shard <paramref name="index"/> of <paramref name="request"/> unless a complete file is there.</summary>
    /// <param name="request">The job.</param>
    /// <param name="index">The shard.</param>
    /// <returns>What was done.</returns>
    Task<ShardOutcome> WriteAsync(GenerationRequest request, int index);
}

/// <summary>Coordinates one generation job (key: the job id): fans the shards out with at most
/// <see cref="GenerationRequest.MaxParallelShards"/> at once, re-runs shards lost with their silo, and persists every
/// finished shard so a restarted job only writes the missing ones.</summary>
public interface IGenerationJobGrain : IGrainWithStringKey
{
    /// <summary>Runs (or resumes) the job to its end.</summary>
    /// <param name="request">The job; must equal the stored one when the id was used before.</param>
    /// <returns>Every shard.</returns>
    Task<GenerationOutcome> RunAsync(GenerationRequest request);

    /// <summary>Shards finished so far (answers while <see cref="RunAsync"/> runs).</summary>
    /// <returns>The count.</returns>
    [AlwaysInterleave]
    Task<int> GetCompletedShardsAsync();
}
