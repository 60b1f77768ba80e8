using System.Text.Json;
using MLExtensions.Diffusion.Search;
using Orleans.Concurrency;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>A distributed search: which workload evaluates the trials, which tuner proposes them, and the budget.</summary>
/// <remarks>The search proposes in rounds of <see cref="BatchSize"/> points: the tuner proposes a whole round, the round's
/// trials run in parallel on the cluster, then the tuner learns their results in trial order. With the same seed, tuner,
/// workload and batch size, <see cref="RoundSearch.RunLocalAsync"/> gives the same trials on one machine; with
/// <see cref="BatchSize"/> 1 both equal <see cref="SearchExperiment"/>'s.</remarks>
[GenerateSerializer, Alias("MLExtensions.Diffusion.Orleans.ClusterSearchRequest")]
public sealed record ClusterSearchRequest
{
    /// <summary>The name of a workload registered on every silo (<see cref="ClusterHosting.AddSearchWorkload"/>).</summary>
    [Id(0)] public required string Workload { get; init; }

    /// <summary>The workload's arguments (e.g. its model and data paths), passed to it as they are; may be null.</summary>
    [Id(1)] public string? Arguments { get; init; }

    /// <summary>The tuner: "gp" (Gaussian process, default), "random" or "grid".</summary>
    [Id(2)] public string Tuner { get; init; } = "gp";

    /// <summary>The tuner's seed: same seed, same trials.</summary>
    [Id(3)] public int Seed { get; init; }

    /// <summary>The trial budget, at least 1.</summary>
    [Id(4)] public int MaxTrials { get; init; } = 20;

    /// <summary>Points proposed per round (and run in parallel), at least 1.</summary>
    [Id(5)] public int BatchSize { get; init; } = 4;

    /// <summary>How many times a trial is started before the search fails, when the silo running it dies or does not
    /// answer in time (a trial that throws is recorded as failed, not retried); at least 1.</summary>
    [Id(6)] public int MaxAttempts { get; init; } = 5;

    /// <summary>Checks the request.</summary>
    /// <exception cref="ArgumentException">A field is out of range (the message names it).</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Workload)) throw new ArgumentException("The search request needs a workload name.", nameof(Workload));
        RoundSearch.CheckTunerName(Tuner);
        if (MaxTrials < 1 || MaxTrials > 1_000_000) throw new ArgumentException($"MaxTrials must lie in [1, 1000000], not {MaxTrials}.", nameof(MaxTrials));
        if (BatchSize < 1 || BatchSize > 10_000) throw new ArgumentException($"BatchSize must lie in [1, 10000], not {BatchSize}.", nameof(BatchSize));
        if (MaxAttempts < 1 || MaxAttempts > 100) throw new ArgumentException($"MaxAttempts must lie in [1, 100], not {MaxAttempts}.", nameof(MaxAttempts));
    }
}

/// <summary>One trial to run on a worker silo.</summary>
[GenerateSerializer, Alias("MLExtensions.Diffusion.Orleans.TrialWork")]
public sealed record TrialWork
{
    /// <summary>The workload name.</summary>
    [Id(0)] public required string Workload { get; init; }

    /// <summary>The workload's arguments.</summary>
    [Id(1)] public string? Arguments { get; init; }

    /// <summary>The trial number in its search.</summary>
    [Id(2)] public int TrialId { get; init; }

    /// <summary>The point to evaluate, as the JSON of a <see cref="Parameter"/>.</summary>
    [Id(3)] public required string ParameterJson { get; init; }
}

/// <summary>A finished trial as it travels between silos and is stored in the search's state.</summary>
[GenerateSerializer, Alias("MLExtensions.Diffusion.Orleans.TrialOutcome")]
public sealed record TrialOutcome
{
    /// <summary>The trial number.</summary>
    [Id(0)] public int TrialId { get; init; }

    /// <summary>The evaluated point, as the JSON of a <see cref="Parameter"/>.</summary>
    [Id(1)] public required string ParameterJson { get; init; }

    /// <summary>The loss (+Infinity for a failed trial).</summary>
    [Id(2)] public double Loss { get; init; }

    /// <summary>The metric.</summary>
    [Id(3)] public double Metric { get; init; }

    /// <summary>The trial's duration in milliseconds.</summary>
    [Id(4)] public double DurationMilliseconds { get; init; }

    /// <summary>Extra metrics, or null.</summary>
    [Id(5)] public Dictionary<string, double>? Metrics { get; init; }

    /// <summary>The error of a failed trial, or null.</summary>
    [Id(6)] public string? Error { get; init; }

    /// <summary>The silo that ran it.</summary>
    [Id(7)] public string? Silo { get; init; }

    /// <summary>Which start of the trial produced this result (1 unless a silo died under an earlier one).</summary>
    [Id(8)] public int Attempt { get; init; } = 1;

    /// <summary>The outcome of a result.</summary>
    /// <param name="result">The result.</param>
    /// <param name="silo">The silo that ran it.</param>
    /// <returns>The outcome.</returns>
    public static TrialOutcome From(TrialResult result, string? silo = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new TrialOutcome
        {
            TrialId = result.TrialSettings.TrialId,
            ParameterJson = Orleans.ParameterJson.Write(result.TrialSettings.Parameter),
            Loss = result.Loss,
            Metric = result.Metric,
            DurationMilliseconds = result.DurationMilliseconds,
            Metrics = result.Metrics is null ? null : new Dictionary<string, double>(result.Metrics, StringComparer.Ordinal),
            Error = result.Error,
            Silo = silo,
        };
    }

    /// <summary>The <see cref="TrialResult"/> this outcome records.</summary>
    /// <returns>The result.</returns>
    public TrialResult ToResult() => new()
    {
        TrialSettings = new TrialSettings(TrialId, Orleans.ParameterJson.Read(ParameterJson)),
        Loss = Loss,
        Metric = Metric,
        DurationMilliseconds = DurationMilliseconds,
        Metrics = Metrics,
        Error = Error,
    };
}

/// <summary>A search's result as the coordinator returns it.</summary>
[GenerateSerializer, Alias("MLExtensions.Diffusion.Orleans.ClusterSearchOutcome")]
public sealed record ClusterSearchOutcome
{
    /// <summary>The trials, in order.</summary>
    [Id(0)] public required List<TrialOutcome> Trials { get; init; }

    /// <summary>Why it stopped.</summary>
    [Id(1)] public SearchStopReason StopReason { get; init; }

    /// <summary>Wall time of the run that finished it, in milliseconds.</summary>
    [Id(2)] public double ElapsedMilliseconds { get; init; }

    /// <summary>Trial starts that were lost with their silo and re-run elsewhere.</summary>
    [Id(3)] public int Retries { get; init; }

    /// <summary>The <see cref="SearchResult"/>.</summary>
    /// <returns>The result.</returns>
    public SearchResult ToSearchResult() => new(Trials.Select(t => t.ToResult()).ToList(), StopReason, ElapsedMilliseconds);
}

/// <summary>How far a search has come.</summary>
[GenerateSerializer, Alias("MLExtensions.Diffusion.Orleans.ClusterSearchProgress")]
public sealed record ClusterSearchProgress
{
    /// <summary>Trials recorded so far.</summary>
    [Id(0)] public int Completed { get; init; }

    /// <summary>The trial budget (0 before the search started).</summary>
    [Id(1)] public int MaxTrials { get; init; }

    /// <summary>Whether the search has finished.</summary>
    [Id(2)] public bool Finished { get; init; }

    /// <summary>The best loss so far (+Infinity when none succeeded).</summary>
    [Id(3)] public double BestLoss { get; init; } = double.PositiveInfinity;

    /// <summary>Trial starts lost with their silo and re-run.</summary>
    [Id(4)] public int Retries { get; init; }

    /// <summary>The silo the coordinator runs on.</summary>
    [Id(5)] public string? Silo { get; init; }
}

/// <summary>The JSON text of a <see cref="Parameter"/>, exactly as the search types write it.</summary>
internal static class ParameterJson
{
    public static string Write(Parameter parameter) => JsonSerializer.Serialize(parameter, SearchJson.Options);

    public static Parameter Read(string json) =>
        JsonSerializer.Deserialize<Parameter>(json, SearchJson.Options) ?? throw new ArgumentException("The parameter JSON is null.", nameof(json));
}

/// <summary>Runs one trial on the silo that activates it.</summary>
public interface ITrialGrain : IGrainWithStringKey
{
    /// <summary>Runs the trial with the silo's workload and returns its result (a throwing runner gives a failed result).</summary>
    /// <param name="work">The trial.</param>
    /// <returns>The result.</returns>
    Task<TrialOutcome> RunAsync(TrialWork work);
}

/// <summary>Coordinates one search (its key is the search id): proposes rounds with the tuner, fans them out to
/// <see cref="ITrialGrain"/>s, feeds the results back and persists every finished trial, so a restarted coordinator
/// resumes where the last one stopped.</summary>
public interface ISearchCoordinatorGrain : IGrainWithStringKey
{
    /// <summary>Runs the search to its end (or resumes it) and returns every trial. Calling it again after the end returns
    /// the stored result without running anything.</summary>
    /// <param name="request">The search; must equal the stored one when the id was used before.</param>
    /// <returns>The trials.</returns>
    Task<ClusterSearchOutcome> RunAsync(ClusterSearchRequest request);

    /// <summary>How far the search has come (answers while <see cref="RunAsync"/> is running).</summary>
    /// <returns>The progress.</returns>
    [AlwaysInterleave]
    Task<ClusterSearchProgress> GetProgressAsync();
}
