using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MLExtensions.Diffusion.Search;

/// <summary>
/// Runs a search: the tuner proposes a point, the trial runner evaluates it, the tuner learns the result; until the trial
/// budget, the wall-time budget or the caller's cancellation stops it. Shaped like ML.NET AutoML's AutoMLExperiment.
/// </summary>
/// <remarks>
/// A trial whose runner throws (anything but cancellation) is recorded as failed (its exception message, loss
/// +Infinity) and the search goes on; so is a trial that reports a non-finite loss. Only when no trial succeeded does
/// <see cref="RunAsync"/> throw. When the wall time runs out or the caller cancels, the running trial's token is
/// cancelled and the experiment stops waiting for it at once (it is not recorded; a runner that ignores its token may
/// still be running in the background).
/// </remarks>
public sealed class SearchExperiment
{
    private SearchSpace? _space;
    private ITuner? _tuner;
    private Func<SearchSpace, int, ITuner>? _tunerFactory;
    private ITrialRunner? _runner;
    private int? _maxTrials;
    private TimeSpan? _maxWallTime;
    private int _seed;
    private IProgress<TrialResult>? _progress;
    private Action<string>? _log;

    /// <summary>Sets the search space.</summary>
    /// <param name="space">The space, at least one dimension.</param>
    /// <returns>This experiment.</returns>
    /// <exception cref="ArgumentException">The space has no dimensions.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="space"/> is null.</exception>
    public SearchExperiment SetSearchSpace(SearchSpace space)
    {
        ArgumentNullException.ThrowIfNull(space);
        if (space.Count == 0) throw new ArgumentException("The search space has no dimensions.", nameof(space));
        _space = space;
        return this;
    }

    /// <summary>Sets the tuner (it must propose points of the experiment's search space).</summary>
    /// <param name="tuner">The tuner.</param>
    /// <returns>This experiment.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="tuner"/> is null.</exception>
    public SearchExperiment SetTuner(ITuner tuner)
    {
        ArgumentNullException.ThrowIfNull(tuner);
        (_tuner, _tunerFactory) = (tuner, null);
        return this;
    }

    /// <summary>Sets a tuner factory, called at the start of each run with the search space and the seed (e.g. <c>(s, seed) =&gt; new GaussianProcessTuner(s, seed)</c>).</summary>
    /// <param name="factory">The factory.</param>
    /// <returns>This experiment.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is null.</exception>
    public SearchExperiment SetTuner(Func<SearchSpace, int, ITuner> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        (_tuner, _tunerFactory) = (null, factory);
        return this;
    }

    /// <summary>Sets the trial runner.</summary>
    /// <param name="runner">The runner.</param>
    /// <returns>This experiment.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="runner"/> is null.</exception>
    public SearchExperiment SetTrialRunner(ITrialRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        _runner = runner;
        return this;
    }

    /// <summary>Sets the trial budget.</summary>
    /// <param name="maxTrials">At least 1.</param>
    /// <returns>This experiment.</returns>
    /// <exception cref="ArgumentException"><paramref name="maxTrials"/> &lt; 1.</exception>
    public SearchExperiment SetMaxTrials(int maxTrials)
    {
        if (maxTrials < 1) throw new ArgumentException($"maxTrials must be at least 1, not {maxTrials}.", nameof(maxTrials));
        _maxTrials = maxTrials;
        return this;
    }

    /// <summary>Sets the wall-time budget.</summary>
    /// <param name="maxWallTime">Positive.</param>
    /// <returns>This experiment.</returns>
    /// <exception cref="ArgumentException"><paramref name="maxWallTime"/> is not positive.</exception>
    public SearchExperiment SetMaxWallTime(TimeSpan maxWallTime)
    {
        if (maxWallTime <= TimeSpan.Zero) throw new ArgumentException($"maxWallTime must be positive, not {maxWallTime}.", nameof(maxWallTime));
        _maxWallTime = maxWallTime;
        return this;
    }

    /// <summary>Sets the seed passed to a tuner factory (and the default tuner).</summary>
    /// <param name="seed">The seed.</param>
    /// <returns>This experiment.</returns>
    public SearchExperiment SetSeed(int seed)
    {
        _seed = seed;
        return this;
    }

    /// <summary>Sets a progress sink, told of every recorded trial.</summary>
    /// <param name="progress">The sink.</param>
    /// <returns>This experiment.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="progress"/> is null.</exception>
    public SearchExperiment SetProgress(IProgress<TrialResult> progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        _progress = progress;
        return this;
    }

    /// <summary>
    /// Sets a log sink for one line per trial start and end and a closing summary (e.g. <c>Console.WriteLine</c>, or the
    /// writer a caller also hands ML.NET's <c>MLContext.Log</c> messages to, so both land in one log).
    /// </summary>
    /// <param name="log">The sink.</param>
    /// <returns>This experiment.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is null.</exception>
    public SearchExperiment SetLog(Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(log);
        _log = log;
        return this;
    }

    /// <summary>
    /// Sends the log lines to ML.NET's log: subscribers of <paramref name="context"/>'s <see cref="MLContext.Log"/> event
    /// receive them as Info messages from <paramref name="source"/> (through the public <see cref="IHostEnvironment"/>
    /// channel API).
    /// </summary>
    /// <param name="context">The ML.NET context.</param>
    /// <param name="source">The message source, non-empty (default "Search").</param>
    /// <returns>This experiment.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> is empty.</exception>
    public SearchExperiment SetLog(MLContext context, string source = "Search")
    {
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrWhiteSpace(source)) throw new ArgumentException("The log source needs a non-empty name.", nameof(source));
        var host = ((IHostEnvironment)context).Register(source);
        _log = message =>
        {
            using var channel = host.Start("Trial");
            channel.Info(MessageSensitivity.None, message);
        };
        return this;
    }

    /// <summary>Runs the search. Without a tuner it uses <see cref="GaussianProcessTuner"/> with the seed.</summary>
    /// <param name="cancellationToken">Stops the search: the running trial is cancelled and the trials so far are returned.</param>
    /// <returns>The trials and the best one.</returns>
    /// <exception cref="InvalidOperationException">No search space or trial runner was set, neither budget was set, a tuner proposed a point outside the space, or no trial succeeded (the message gives the last error).</exception>
    /// <exception cref="OperationCanceledException">The caller cancelled before any trial was recorded.</exception>
    public async Task<SearchResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var space = _space ?? throw new InvalidOperationException("Call SetSearchSpace before RunAsync.");
        var runner = _runner ?? throw new InvalidOperationException("Call SetTrialRunner before RunAsync.");
        if (_maxTrials is null && _maxWallTime is null) throw new InvalidOperationException("Set a budget (SetMaxTrials or SetMaxWallTime) before RunAsync.");
        var tuner = _tuner ?? _tunerFactory?.Invoke(space, _seed) ?? new GaussianProcessTuner(space, _seed);
        int maxTrials = _maxTrials ?? int.MaxValue;

        var clock = Stopwatch.StartNew();
        using var wall = _maxWallTime is { } w ? new CancellationTokenSource(w) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, wall.Token);
        var trials = new List<TrialResult>();
        var reason = SearchStopReason.MaxTrials;
        for (int id = 0; id < maxTrials; id++)
        {
            if (cancellationToken.IsCancellationRequested) { reason = SearchStopReason.Cancelled; break; }
            if (wall.IsCancellationRequested) { reason = SearchStopReason.MaxWallTime; break; }

            var parameter = tuner.Propose(new TrialSettings(id, Parameter.Empty));
            try
            {
                space.Validate(parameter);
            }
            catch (ArgumentException e)
            {
                throw new InvalidOperationException($"The tuner proposed a point outside the search space: {e.Message}", e);
            }
            var settings = new TrialSettings(id, parameter);
            _log?.Invoke($"Trial {id} starts: {parameter}");
            var trialClock = Stopwatch.StartNew();
            TrialResult result;
            try
            {
                result = await runner.RunAsync(settings, linked.Token).WaitAsync(linked.Token).ConfigureAwait(false)
                         ?? throw new InvalidOperationException("The trial runner returned null.");
                double duration = result.DurationMilliseconds > 0 ? result.DurationMilliseconds : trialClock.Elapsed.TotalMilliseconds;
                result = result with { TrialSettings = settings, DurationMilliseconds = duration };
                if (result.Error is null && !double.IsFinite(result.Loss))
                    result = result with { Error = $"The trial reported a non-finite loss ({result.Loss.ToString(CultureInfo.InvariantCulture)}).", Loss = double.PositiveInfinity };
                else if (result.Error is not null)
                    result = result with { Loss = double.PositiveInfinity };
            }
            catch (OperationCanceledException) when (linked.IsCancellationRequested)
            {
                reason = cancellationToken.IsCancellationRequested ? SearchStopReason.Cancelled : SearchStopReason.MaxWallTime;
                _log?.Invoke($"Trial {id} stopped unfinished: {reason}.");
                break;
            }
            catch (Exception e)
            {
                result = new TrialResult
                {
                    TrialSettings = settings,
                    Loss = double.PositiveInfinity,
                    Metric = double.NaN,
                    DurationMilliseconds = trialClock.Elapsed.TotalMilliseconds,
                    Error = $"{e.GetType().Name}: {e.Message}",
                };
            }
            trials.Add(result);
            tuner.Update(result);
            _progress?.Report(result);
            _log?.Invoke(result.IsSuccess
                ? $"Trial {id} done in {result.DurationMilliseconds.ToString("F0", CultureInfo.InvariantCulture)} ms: loss {result.Loss.ToString("G6", CultureInfo.InvariantCulture)}, metric {result.Metric.ToString("G6", CultureInfo.InvariantCulture)}."
                : $"Trial {id} failed: {result.Error}");
        }

        if (trials.Count == 0 && reason == SearchStopReason.Cancelled) throw new OperationCanceledException("The search was cancelled before any trial finished.", cancellationToken);
        var searchResult = new SearchResult(trials, reason, clock.Elapsed.TotalMilliseconds);
        if (searchResult.BestTrial is null)
            throw new InvalidOperationException(trials.Count == 0
                ? $"No trial finished before the search stopped ({reason})."
                : $"All {trials.Count} trials failed; the last error: {trials[^1].Error}");
        _log?.Invoke($"Search stopped ({reason}) after {trials.Count} trials; best trial {searchResult.BestTrial.TrialSettings.TrialId}, loss {searchResult.BestTrial.Loss.ToString("G6", CultureInfo.InvariantCulture)}.");
        return searchResult;
    }
}
