using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MLExtensions.Diffusion.Search;
using Orleans.Runtime;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>The stored state of a search: its request and every finished trial (in finishing order).</summary>
[GenerateSerializer, Alias("MLExtensions.Diffusion.Orleans.SearchState")]
public sealed class SearchState
{
    /// <summary>The request the search was started with; null before the first run.</summary>
    [Id(0)] public ClusterSearchRequest? Request { get; set; }

    /// <summary>The finished trials.</summary>
    [Id(1)] public List<TrialOutcome> Trials { get; set; } = [];

    /// <summary>Whether the search reached its end.</summary>
    [Id(2)] public bool Finished { get; set; }

    /// <summary>Why it stopped, once finished.</summary>
    [Id(3)] public SearchStopReason StopReason { get; set; }

    /// <summary>Trial starts lost with their silo and re-run.</summary>
    [Id(4)] public int Retries { get; set; }
}

/// <summary>The coordinator of one search.</summary>
internal sealed class SearchCoordinatorGrain(
    [PersistentState("search", ClusterHosting.StorageName)] IPersistentState<SearchState> state, IHostApplicationLifetime lifetime,
    TrialRunnerPool pool, WorkSpreader spreader, ILocalSiloDetails silo, ILogger<SearchCoordinatorGrain> log) : Grain, ISearchCoordinatorGrain
{
    private CoalescingStateWriter? _writer;

    public Task<ClusterSearchProgress> GetProgressAsync()
    {
        var s = state.State;
        var ok = s.Trials.Where(t => t.Error is null && double.IsFinite(t.Loss)).ToList();
        return Task.FromResult(new ClusterSearchProgress
        {
            Completed = s.Trials.Count, MaxTrials = s.Request?.MaxTrials ?? 0, Finished = s.Finished, Retries = s.Retries, Silo = silo.SiloAddress.ToString(),
            BestLoss = ok.Count == 0 ? double.PositiveInfinity : ok.Min(t => t.Loss),
        });
    }

    public async Task<ClusterSearchOutcome> RunAsync(ClusterSearchRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var s = state.State;
        string id = this.GetPrimaryKeyString();
        if (s.Request is null)
        {
            s.Request = request;
            await WriteAsync();
        }
        else if (s.Request != request)
        {
            throw new ArgumentException($"Search '{id}' was started with other settings ({s.Request}); use another search id for {request}.", nameof(request));
        }
        if (s.Finished) return Outcome(s, 0);

        var clock = Stopwatch.StartNew();
        var workload = pool.Workload(request.Workload);
        var space = workload.CreateSpace(request.Arguments);
        var tuner = RoundSearch.CreateTuner(request.Tuner, space, request.Seed);
        var done = s.Trials.ToDictionary(t => t.TrialId, t => t.ToResult());
        if (done.Count > 0) log.LogInformation("Search {Id} resumes with {Count} stored trials.", id, done.Count);
        var (_, reason) = await RoundSearch.RunRoundsAsync(space, tuner, request.MaxTrials, request.BatchSize, done,
            async (round, ct) => await Task.WhenAll(round.Select(settings => RunTrialAsync(id, request, settings))),
            (_, _) => Task.CompletedTask, CancellationToken.None);
        s.Finished = true;
        s.StopReason = reason;
        await WriteAsync();
        return Outcome(s, clock.Elapsed.TotalMilliseconds);
    }

    private static ClusterSearchOutcome Outcome(SearchState s, double elapsed) => new()
    {
        Trials = s.Trials.OrderBy(t => t.TrialId).ToList(), StopReason = s.StopReason, ElapsedMilliseconds = elapsed, Retries = s.Retries,
    };

    private async Task<TrialResult> RunTrialAsync(string searchId, ClusterSearchRequest request, TrialSettings settings)
    {
        var work = new TrialWork
        {
            Workload = request.Workload, Arguments = request.Arguments, TrialId = settings.TrialId,
            ParameterJson = ParameterJson.Write(settings.Parameter),
        };
        for (int attempt = 1; ; attempt++)
        {
            var grain = GrainFactory.GetGrain<ITrialGrain>($"{searchId}/{settings.TrialId}/{attempt}");
            try
            {
                var outcome = await spreader.CallAsync(settings.TrialId, attempt, () => grain.RunAsync(work)) with { Attempt = attempt };
                await WriteAsync(() => state.State.Trials.Add(outcome));
                return outcome.ToResult();
            }
            catch (Exception e) when (ClusterHosting.IsLostWork(e) && attempt < request.MaxAttempts && !lifetime.ApplicationStopping.IsCancellationRequested)
            {
                await WriteAsync(() => state.State.Retries++, write: false);
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));   // back off while the membership settles
                log.LogWarning("Search {Id}: trial {Trial} attempt {Attempt} was lost ({Error}); running it again.", searchId, settings.TrialId, attempt, e.Message);
            }
            catch (Exception e) when (ClusterHosting.IsLostWork(e) && !lifetime.ApplicationStopping.IsCancellationRequested)
            {
                throw new InvalidOperationException($"Trial {settings.TrialId} of search '{searchId}' was lost {attempt} times (the last: {e.Message}); giving up.", e);
            }
        }
    }

    /// <summary>Changes the state and stores it (<see cref="CoalescingStateWriter"/>).</summary>
    private Task WriteAsync(Action? change = null, bool write = true) =>
        (_writer ??= new CoalescingStateWriter(state.WriteStateAsync, () => lifetime.ApplicationStopping.IsCancellationRequested)).WriteAsync(change, write);
}
