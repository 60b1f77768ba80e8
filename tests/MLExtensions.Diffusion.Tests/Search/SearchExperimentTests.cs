using MLExtensions.Diffusion.Search;

namespace MLExtensions.Diffusion.Tests.Search;

public class SearchExperimentSearchTests
{
    private sealed class FunctionRunner(Func<TrialSettings, CancellationToken, Task<TrialResult>> run) : ITrialRunner
    {
        public int Calls;

        public Task<TrialResult> RunAsync(TrialSettings settings, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return run(settings, cancellationToken);
        }
    }

    private sealed class ListProgress : IProgress<TrialResult>
    {
        public readonly List<TrialResult> Reports = [];

        public void Report(TrialResult value) => Reports.Add(value);
    }

    private sealed class OutsideTuner : ITuner
    {
        public Parameter Propose(TrialSettings settings) => Parameter.Create([new("x1", 99.0), new("x2", 1.0)]);

        public void Update(TrialResult result) { }
    }

    private static FunctionRunner BraninRunner() => new((s, _) =>
    {
        double loss = TestFunctions.Branin(s.Parameter);
        return Task.FromResult(new TrialResult { TrialSettings = s, Loss = loss, Metric = -loss, Metrics = new Dictionary<string, double> { ["Cost"] = s.TrialId } });
    });

    private static GaussianProcessTunerOptions Light => new() { InitialRandomTrials = 3, RandomCandidates = 64, LocalCandidatesPerPoint = 8 };

    [Fact]
    public async Task RunsExactlyMaxTrialsAndReportsTheBest()
    {
        var runner = BraninRunner();
        var progress = new ListProgress();
        var log = new List<string>();
        var result = await new SearchExperiment()
            .SetSearchSpace(TestFunctions.BraninSpace())
            .SetTuner((space, seed) => new RandomSearchTuner(space, seed))
            .SetTrialRunner(runner)
            .SetMaxTrials(17)
            .SetProgress(progress)
            .SetLog(log.Add)
            .RunAsync();
        Assert.Equal(17, runner.Calls);
        Assert.Equal(17, result.Trials.Count);
        Assert.Equal(Enumerable.Range(0, 17), result.Trials.Select(t => t.TrialSettings.TrialId));
        Assert.Equal(SearchStopReason.MaxTrials, result.StopReason);
        Assert.Equal(result.Trials.Min(t => t.Loss), result.BestTrial!.Loss);
        Assert.Equal(result.Trials, progress.Reports);
        Assert.All(result.Trials, t => Assert.True(t.DurationMilliseconds > 0));
        Assert.Equal(2 * 17 + 1, log.Count); // start and end of each trial, and the summary
    }

    [Fact]
    public async Task LogLinesReachMLContextLogSubscribers()
    {
        var context = new Microsoft.ML.MLContext(seed: 1);
        var messages = new List<(string Source, string Message)>();
        context.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info) lock (messages) messages.Add((e.Source, e.Message)); };
        await new SearchExperiment().SetSearchSpace(TestFunctions.BraninSpace()).SetTrialRunner(BraninRunner()).SetMaxTrials(3).SetLog(context, "SamplerSearch").RunAsync();
        Assert.Contains(messages, m => m.Source.StartsWith("SamplerSearch") && m.Message.Contains("Trial 2 done"));
        Assert.Contains(messages, m => m.Message.Contains("Search stopped (MaxTrials) after 3 trials"));
        Assert.Throws<ArgumentException>(() => new SearchExperiment().SetLog(context, " "));
    }

    [Fact]
    public async Task SameSeedGivesTheSameTrialSequenceAndAnotherSeedAnother()
    {
        async Task<Parameter[]> Run(int seed) => (await new SearchExperiment()
            .SetSearchSpace(TestFunctions.BraninSpace())
            .SetTuner((space, s) => new GaussianProcessTuner(space, s, Light))
            .SetTrialRunner(BraninRunner())
            .SetMaxTrials(8)
            .SetSeed(seed)
            .RunAsync()).Trials.Select(t => t.TrialSettings.Parameter).ToArray();
        var a = await Run(11);
        Assert.Equal(a, await Run(11));
        Assert.NotEqual(a, await Run(12));
    }

    [Fact]
    public async Task CancellationStopsTheRunningTrialAndReturnsTheTrialsSoFar()
    {
        using var cts = new CancellationTokenSource();
        var runner = new FunctionRunner(async (s, token) =>
        {
            if (s.TrialId == 2)
            {
                cts.Cancel();
                await Task.Delay(Timeout.Infinite, token);
            }
            return new TrialResult { TrialSettings = s, Loss = s.TrialId };
        });
        var result = await new SearchExperiment().SetSearchSpace(TestFunctions.BraninSpace()).SetTrialRunner(runner).SetMaxTrials(100).RunAsync(cts.Token);
        Assert.Equal(SearchStopReason.Cancelled, result.StopReason);
        Assert.Equal(2, result.Trials.Count);
        Assert.Equal(3, runner.Calls);
    }

    [Fact]
    public async Task CancellationDoesNotWaitForARunnerThatIgnoresItsToken()
    {
        using var cts = new CancellationTokenSource();
        var never = new TaskCompletionSource<TrialResult>();
        var runner = new FunctionRunner((s, _) =>
        {
            if (s.TrialId < 3) return Task.FromResult(new TrialResult { TrialSettings = s, Loss = 1 });
            cts.Cancel();
            return never.Task;
        });
        var run = new SearchExperiment().SetSearchSpace(TestFunctions.BraninSpace()).SetTuner(new RandomSearchTuner(TestFunctions.BraninSpace())).SetTrialRunner(runner).SetMaxTrials(100).RunAsync(cts.Token);
        // A guard against a hang, not a timing measurement: the run must end although the trial never does.
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))));
        var result = await run;
        Assert.Equal((SearchStopReason.Cancelled, 3), (result.StopReason, result.Trials.Count));
    }

    [Fact]
    public async Task CancelledBeforeAnyTrialThrows()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var runner = BraninRunner();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new SearchExperiment().SetSearchSpace(TestFunctions.BraninSpace()).SetTrialRunner(runner).SetMaxTrials(5).RunAsync(cts.Token));
        Assert.Equal(0, runner.Calls);
    }

    [Fact]
    public async Task WallTimeBudgetCancelsTheRunningTrial()
    {
        var runner = new FunctionRunner(async (s, token) =>
        {
            if (s.TrialId == 1) await Task.Delay(Timeout.Infinite, token);
            return new TrialResult { TrialSettings = s, Loss = 1 };
        });
        var result = await new SearchExperiment().SetSearchSpace(TestFunctions.BraninSpace()).SetTrialRunner(runner)
            .SetMaxWallTime(TimeSpan.FromSeconds(2)).RunAsync(); // room for trial 0 on a loaded machine
        Assert.Equal(SearchStopReason.MaxWallTime, result.StopReason);
        Assert.Single(result.Trials);
        Assert.Equal(2, runner.Calls);
    }

    [Fact]
    public async Task FailedTrialsAreRecordedAndTheSearchGoesOn()
    {
        var space = new SearchSpace().AddChoice("mode", "ok", "throws", "nan").AddRange("x", 0, 1);
        var runner = new FunctionRunner((s, _) => s.Parameter.Get<string>("mode") switch
        {
            "throws" => throw new InvalidOperationException("diverged at step 3"),
            "nan" => Task.FromResult(new TrialResult { TrialSettings = s, Loss = double.NaN }),
            _ => Task.FromResult(new TrialResult { TrialSettings = s, Loss = s.Parameter.GetDouble("x") }),
        });
        var log = new List<string>();
        var result = await new SearchExperiment().SetSearchSpace(space).SetTuner(new GridSearchTuner(space, 2)).SetTrialRunner(runner).SetMaxTrials(6).SetLog(log.Add).RunAsync();
        Assert.Equal(6, result.Trials.Count);
        var failed = result.Trials.Where(t => !t.IsSuccess).ToList();
        Assert.Equal(4, failed.Count);
        Assert.All(failed, t => Assert.Equal(double.PositiveInfinity, t.Loss));
        Assert.Contains(failed, t => t.Error!.Contains("diverged at step 3"));
        Assert.Contains(failed, t => t.Error!.Contains("non-finite"));
        Assert.Contains(log, l => l.Contains("diverged at step 3"));
        Assert.Equal(("ok", 0.0), (result.BestTrial!.TrialSettings.Parameter.Get<string>("mode"), result.BestTrial.Loss));
    }

    [Fact]
    public async Task AllTrialsFailingThrowsWithTheLastError()
    {
        var runner = new FunctionRunner((s, _) => throw new InvalidOperationException($"bad trial {s.TrialId}"));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => new SearchExperiment().SetSearchSpace(TestFunctions.BraninSpace()).SetTrialRunner(runner).SetMaxTrials(4).RunAsync());
        Assert.Contains("All 4 trials failed", e.Message);
        Assert.Contains("bad trial 3", e.Message);
    }

    [Fact]
    public async Task MisconfigurationIsReported()
    {
        Assert.Throws<ArgumentException>(() => new SearchExperiment().SetMaxTrials(0));
        Assert.Throws<ArgumentException>(() => new SearchExperiment().SetMaxWallTime(TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => new SearchExperiment().SetSearchSpace(new SearchSpace()));
        await Assert.ThrowsAsync<InvalidOperationException>(() => new SearchExperiment().SetTrialRunner(BraninRunner()).SetMaxTrials(1).RunAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => new SearchExperiment().SetSearchSpace(TestFunctions.BraninSpace()).SetMaxTrials(1).RunAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => new SearchExperiment().SetSearchSpace(TestFunctions.BraninSpace()).SetTrialRunner(BraninRunner()).RunAsync());
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => new SearchExperiment().SetSearchSpace(TestFunctions.BraninSpace()).SetTuner(new OutsideTuner()).SetTrialRunner(BraninRunner()).SetMaxTrials(1).RunAsync());
        Assert.Contains("'x1'", e.Message);
    }

    [Fact]
    public async Task ResultRoundTripsThroughAnAtomicallyWrittenFile()
    {
        var space = new SearchSpace().AddChoice("mode", "ok", "throws").AddRange("x", 0, 1);
        var runner = new FunctionRunner((s, _) => s.Parameter.Get<string>("mode") == "throws"
            ? throw new InvalidOperationException("nope")
            : Task.FromResult(new TrialResult { TrialSettings = s, Loss = s.Parameter.GetDouble("x"), Metric = 2, Metrics = new Dictionary<string, double> { ["Cost"] = 10 + s.TrialId } }));
        var result = await new SearchExperiment().SetSearchSpace(space).SetTuner(new GridSearchTuner(space, 3)).SetTrialRunner(runner).SetMaxTrials(6).RunAsync();
        string dir = Path.Combine(Path.GetTempPath(), "search-" + Guid.NewGuid().ToString("N"));
        try
        {
            string path = Path.Combine(dir, "sub", "result.json");
            result.Save(path);
            result.Save(path); // overwrite
            Assert.Equal(["result.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
            var back = SearchResult.Load(path);
            Assert.Equal(result.ToJson(), back.ToJson());
            Assert.Equal(result.StopReason, back.StopReason);
            Assert.Equal(result.Trials.Select(t => (t.TrialSettings, t.Loss, t.Error)), back.Trials.Select(t => (t.TrialSettings, t.Loss, t.Error)));
            Assert.Equal(result.BestTrial!.TrialSettings, back.BestTrial!.TrialSettings);
            Assert.Contains(back.Trials, t => double.IsPositiveInfinity(t.Loss) && t.Error!.Contains("nope"));
            Assert.Equal(12, back.Trials[2].Metrics!["Cost"]); // grid order: the three "ok" trials first
            Assert.Null(back.Trials[3].Metrics);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        Assert.Throws<ArgumentException>(() => SearchResult.FromJson("{\"nonsense\": "));
    }
}
