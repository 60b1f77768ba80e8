using System.Diagnostics;
using System.Globalization;
using MLExtensions.Diffusion.Search;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>
/// The search loop shared by the one-machine and the cluster search: the tuner proposes a round of points, the round's
/// trials run (in parallel on a cluster, one after another locally), then the tuner learns their results in trial order.
/// Both paths call the same loop with the same normalisation of results as <see cref="SearchExperiment"/> (a throwing runner
/// or a non-finite loss gives a failed trial of loss +Infinity), so for a deterministic trial runner the same seed, tuner
/// and batch size give the same trials and the same best trial; with batch size 1 they are <see cref="SearchExperiment"/>'s.
/// </summary>
public static class RoundSearch
{
    /// <summary>The tuner names: "gp", "random", "grid".</summary>
    public static IReadOnlyList<string> TunerNames { get; } = ["gp", "random", "grid"];

    /// <summary>Creates a tuner by name, as the CLI's search does: "gp" (<see cref="GaussianProcessTuner"/>), "random"
    /// (<see cref="RandomSearchTuner"/>) or "grid" (<see cref="GridSearchTuner"/>, 3 steps per range).</summary>
    /// <param name="name">The name.</param>
    /// <param name="space">The space.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The tuner.</returns>
    /// <exception cref="ArgumentException">The name is not a known tuner.</exception>
    public static ITuner CreateTuner(string name, SearchSpace space, int seed)
    {
        CheckTunerName(name);
        return name switch
        {
            "random" => new RandomSearchTuner(space, seed),
            "grid" => new GridSearchTuner(space, stepsPerRange: 3),
            _ => new GaussianProcessTuner(space, seed),
        };
    }

    internal static void CheckTunerName(string? name)
    {
        if (name is null || !TunerNames.Contains(name))
            throw new ArgumentException($"Unknown tuner '{name}'; use one of {string.Join(", ", TunerNames)}.", nameof(name));
    }

    /// <summary>Runs a round-based search on this machine, trials one after another (a runner such as
    /// <see cref="ScheduleSearch.DiffusionTrialRunner"/> is not thread-safe). The reference for a cluster search of the same
    /// request.</summary>
    /// <param name="space">The search space.</param>
    /// <param name="tuner">A fresh tuner of that space.</param>
    /// <param name="runner">The trial runner.</param>
    /// <param name="maxTrials">The trial budget, at least 1.</param>
    /// <param name="batchSize">Points proposed per round, at least 1.</param>
    /// <param name="progress">Told of every trial, in trial order; may be null.</param>
    /// <param name="cancellationToken">Stops the search between trials (the trials so far are returned).</param>
    /// <returns>The trials and the best one.</returns>
    /// <exception cref="ArgumentException">A budget is below 1.</exception>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidOperationException">The tuner proposed a point outside the space, or no trial succeeded.</exception>
    public static async Task<SearchResult> RunLocalAsync(SearchSpace space, ITuner tuner, ITrialRunner runner, int maxTrials, int batchSize,
        IProgress<TrialResult>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        var clock = Stopwatch.StartNew();
        var (trials, reason) = await RunRoundsAsync(space, tuner, maxTrials, batchSize, new Dictionary<int, TrialResult>(), async (round, ct) =>
        {
            var results = new List<TrialResult>(round.Count);
            foreach (var settings in round)
            {
                ct.ThrowIfCancellationRequested();
                results.Add(await RunTrialAsync(runner, settings, ct).ConfigureAwait(false));
            }
            return (IReadOnlyList<TrialResult>)results;
        }, (result, _) => { progress?.Report(result); return Task.CompletedTask; }, cancellationToken).ConfigureAwait(false);
        return Finish(trials, reason, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>The loop (it keeps the caller's synchronisation context, a grain's scheduler). <paramref name="done"/> holds trials finished by an earlier run (a restarted coordinator): their
    /// rounds are replayed through the tuner (its proposals must match them) and only missing trials run.</summary>
    internal static async Task<(List<TrialResult> Trials, SearchStopReason Reason)> RunRoundsAsync(
        SearchSpace space, ITuner tuner, int maxTrials, int batchSize, IReadOnlyDictionary<int, TrialResult> done,
        Func<IReadOnlyList<TrialSettings>, CancellationToken, Task<IReadOnlyList<TrialResult>>> runRound,
        Func<TrialResult, bool, Task> recorded, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(tuner);
        if (maxTrials < 1) throw new ArgumentException($"maxTrials must be at least 1, not {maxTrials}.", nameof(maxTrials));
        if (batchSize < 1) throw new ArgumentException($"batchSize must be at least 1, not {batchSize}.", nameof(batchSize));
        var trials = new List<TrialResult>(Math.Min(maxTrials, 4096));
        for (int first = 0; first < maxTrials; first += batchSize)
        {
            if (cancellationToken.IsCancellationRequested) return (trials, SearchStopReason.Cancelled);
            int count = Math.Min(batchSize, maxTrials - first);
            var round = new List<TrialSettings>(count);
            for (int id = first; id < first + count; id++)
            {
                var parameter = tuner.Propose(new TrialSettings(id, Parameter.Empty));
                try
                {
                    space.Validate(parameter);
                }
                catch (ArgumentException e)
                {
                    throw new InvalidOperationException($"The tuner proposed a point outside the search space: {e.Message}", e);
                }
                if (done.TryGetValue(id, out var previous) && !previous.TrialSettings.Parameter.Equals(parameter))
                    throw new InvalidOperationException(
                        $"Trial {id} was stored with {previous.TrialSettings.Parameter} but the tuner now proposes {parameter}: the stored search was run with other settings.");
                round.Add(new TrialSettings(id, parameter));
            }
            var missing = round.Where(s => !done.ContainsKey(s.TrialId)).ToList();
            IReadOnlyList<TrialResult> fresh = [];
            if (missing.Count > 0)
            {
                try
                {
                    fresh = await runRound(missing, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return (trials, SearchStopReason.Cancelled);
                }
            }
            var byId = fresh.ToDictionary(r => r.TrialSettings.TrialId);
            foreach (var settings in round)
            {
                bool isNew = !done.TryGetValue(settings.TrialId, out var result);
                if (isNew && !byId.TryGetValue(settings.TrialId, out result))
                    throw new InvalidOperationException($"The round runner returned no result for trial {settings.TrialId}.");
                trials.Add(result!);
                tuner.Update(result!);
                await recorded(result!, isNew);
            }
        }
        return (trials, SearchStopReason.MaxTrials);
    }

    /// <summary>Runs one trial and normalises its result as <see cref="SearchExperiment"/> does.</summary>
    internal static async Task<TrialResult> RunTrialAsync(ITrialRunner runner, TrialSettings settings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var result = await runner.RunAsync(settings, cancellationToken).ConfigureAwait(false)
                         ?? throw new InvalidOperationException("The trial runner returned null.");
            double duration = result.DurationMilliseconds > 0 ? result.DurationMilliseconds : clock.Elapsed.TotalMilliseconds;
            result = result with { TrialSettings = settings, DurationMilliseconds = duration };
            if (result.Error is null && !double.IsFinite(result.Loss))
                return result with { Error = $"The trial reported a non-finite loss ({result.Loss.ToString(CultureInfo.InvariantCulture)}).", Loss = double.PositiveInfinity };
            return result.Error is not null ? result with { Loss = double.PositiveInfinity } : result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return new TrialResult
            {
                TrialSettings = settings,
                Loss = double.PositiveInfinity,
                Metric = double.NaN,
                DurationMilliseconds = clock.Elapsed.TotalMilliseconds,
                Error = $"{e.GetType().Name}: {e.Message}",
            };
        }
    }

    internal static SearchResult Finish(List<TrialResult> trials, SearchStopReason reason, double elapsedMilliseconds)
    {
        if (trials.Count == 0 && reason == SearchStopReason.Cancelled) throw new OperationCanceledException("The search was cancelled before any trial finished.");
        var result = new SearchResult(trials, reason, elapsedMilliseconds);
        if (result.BestTrial is null)
            throw new InvalidOperationException(trials.Count == 0
                ? $"No trial finished before the search stopped ({reason})."
                : $"All {trials.Count} trials failed; the last error: {trials[^1].Error}");
        return result;
    }
}
