using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Search;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.ScheduleSearch;

/// <summary>
/// Evaluates one point of a diffusion search (<see cref="SamplingSearchParameters"/>, or
/// <see cref="DiffusionSearchParameters"/> with training): builds the network (the fixed one, or one trained per distinct
/// training point and cached), builds the sampling plan, generates <see cref="DiffusionTrialRunnerOptions.Rows"/> rows and
/// returns the chosen loss with the cost (NFE) and every other metric.
/// </summary>
/// <remarks>
/// <para>A parameter is read from dimensions named like <see cref="SamplingSearchParameters"/>'s properties, either bare
/// ("Nfe") or under "Sampling." ("Sampling.Nfe"); training dimensions are "Training.Width" etc. Missing ones take their
/// defaults. Metrics: "Cost" (NFE), "Rms" and "SlicedW2" (to the network's converged samples from the same latents),
/// "ValidationSlicedW2", "ValidationMmd", "TestSlicedW2", "TestMmd" (when test data are given) and "ValidationNll" (when
/// it is the loss), all distances in standardised units.</para>
/// <para>Reuse: networks by training point; per network the converged reference, the path metric, the fitted path and
/// the dynamic-programming step errors. Trials must run one at a time (as <see cref="SearchExperiment"/> runs them); the
/// runner is not thread-safe.</para>
/// </remarks>
public sealed class DiffusionTrialRunner : ITrialRunner
{
    /// <summary>The training schedule's path name.</summary>
    public const string TrainingPath = "training";

    /// <summary>The Gaussian-OT path name.</summary>
    public const string GaussianOtPath = "gaussian-ot";

    /// <summary>The fitted least-kinetic-cost path name.</summary>
    public const string FittedPath = "fitted-path";

    private const int Projections = 128, MaxMmdRows = 2000, CandidateLevels = 32;
    private readonly MLContext _context;
    private readonly DiffusionTrialRunnerOptions _options;
    private readonly float[] _train, _validation;
    private readonly float[]? _test;
    private readonly Dictionary<string, Network> _networks = new(StringComparer.Ordinal);

    /// <summary>Reads the data splits.</summary>
    /// <param name="context">The ML.NET context.</param>
    /// <param name="options">The options (copied).</param>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">Training or validation data are missing, a split lacks the column or has non-finite
    /// values, or the fixed model's dimension differs from the column's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Rows below 2, reference steps below 100, or an undefined loss.</exception>
    public DiffusionTrialRunner(MLContext context, DiffusionTrialRunnerOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Rows < 2) throw new ArgumentOutOfRangeException(nameof(options), options.Rows, "Rows must be at least 2.");
        if (options.ReferenceSteps < 100) throw new ArgumentOutOfRangeException(nameof(options), options.ReferenceSteps, "ReferenceSteps must be at least 100.");
        if (!Enum.IsDefined(options.Loss)) throw new ArgumentOutOfRangeException(nameof(options), options.Loss, "Unknown loss.");
        _context = context;
        _options = new DiffusionTrialRunnerOptions
        {
            TrainingData = options.TrainingData ?? throw new ArgumentException("TrainingData is required.", nameof(options)),
            ValidationData = options.ValidationData ?? throw new ArgumentException("ValidationData is required.", nameof(options)),
            TestData = options.TestData, Model = options.Model, BaseTrainingOptions = options.BaseTrainingOptions?.Clone(),
            FeatureColumnName = options.FeatureColumnName, Loss = options.Loss, Rows = options.Rows, ReferenceSteps = options.ReferenceSteps, Seed = options.Seed,
        };
        int d = FeatureColumnReader.RequireVectorColumn(_options.TrainingData.Schema, _options.FeatureColumnName, nameof(options));
        if (options.Model is { } model && model.Dimension != d)
            throw new ArgumentException($"The model has dimension {model.Dimension} but column '{_options.FeatureColumnName}' has {d} values per row.", nameof(options));
        Dimension = d;
        _train = ReadSplit(_options.TrainingData, "training");
        _validation = ReadSplit(_options.ValidationData, "validation");
        _test = _options.TestData is null ? null : ReadSplit(_options.TestData, "test");
    }

    /// <summary>Features per row.</summary>
    public int Dimension { get; }

    /// <summary>Networks trained so far (a sampling-only search trains none).</summary>
    public int NetworksTrained { get; private set; }

    /// <summary>Runs one trial on the thread pool.</summary>
    /// <param name="settings">The trial.</param>
    /// <param name="cancellationToken">Cancels training and generation.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="settings"/> is null.</exception>
    /// <exception cref="ArgumentException">A parameter value is invalid, or a sampling-only point without a fixed model.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public Task<TrialResult> RunAsync(TrialSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Task.Run(() => Run(settings, cancellationToken), cancellationToken);
    }

    private TrialResult Run(TrialSettings settings, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        var p = settings.Parameter;
        var sampling = ReadSampling(p);
        var network = GetNetwork(p, token);
        var plan = BuildPlan(network, sampling, token);
        var samples = network.Measure.Sample(plan, token);
        int d = Dimension;
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["Cost"] = plan.Nfe,
            ["Rms"] = DiscretisationError.Rms(samples, network.Measure.ReferenceSamples, d),
            ["SlicedW2"] = SlicedWasserstein.W2(samples, network.Measure.ReferenceSamples, d, Projections, new Random(_options.Seed)),
            ["ValidationSlicedW2"] = SlicedWasserstein.W2(samples, network.Validation, d, Projections, new Random(_options.Seed)),
            ["ValidationMmd"] = Mmd(samples, network.Validation),
        };
        if (network.Test is { } test)
        {
            metrics["TestSlicedW2"] = SlicedWasserstein.W2(samples, test, d, Projections, new Random(_options.Seed + 1));
            metrics["TestMmd"] = Mmd(samples, test);
        }
        if (_options.Loss == SearchLoss.ValidationNll)
        {
            if (network.ValidationNll is not { } nll)
            {
                using var likelihood = new LikelihoodTransformer(network.Model);
                nll = likelihood.Score(_validation, _options.Seed).Average();
                network.ValidationNll = nll;
            }
            metrics["ValidationNll"] = nll;
        }
        double loss = _options.Loss switch
        {
            SearchLoss.DiscretisationRms => metrics["Rms"],
            SearchLoss.ValidationMmd => metrics["ValidationMmd"],
            SearchLoss.ValidationNll => metrics["ValidationNll"],
            _ => metrics["ValidationSlicedW2"],
        };
        return new TrialResult { TrialSettings = settings, Loss = loss, Metric = loss, Metrics = metrics, DurationMilliseconds = clock.Elapsed.TotalMilliseconds };
    }

    /// <summary>The plan of a sampling point on a network.</summary>
    private SamplingPlan BuildPlan(Network network, SamplingSearchParameters s, CancellationToken token)
    {
        var model = network.Model;
        var schedule = network.Path(s.Path);
        double pathTop = schedule.Sigma(schedule.MaxTime) / schedule.M(schedule.MaxTime);
        double top = Math.Min(Math.Min(s.TopNoiseLevel, pathTop), DiffusionModel.FollowableNoiseLevelFactor * model.TrainedNoiseLevelRange.High);
        double bottom = Math.Min(s.BottomNoiseLevel, top / 2);
        if (s.Grid != SamplingGridKind.DynamicProgramming)
            return SamplingPlan.Create(schedule, s.Grid, s.Sampler, s.Nfe, top, bottom, s.Rho, network.Speed(schedule));
        // DPM-Solver++(2M) is multistep: it takes the DDIM programme's levels (DDIM steps depend on the levels only).
        var stepper = s.Sampler == GenerateSamplerKind.DpmSolverPlusPlus2M ? GenerateSamplerKind.Ddim : s.Sampler;
        string key = string.Create(CultureInfo.InvariantCulture, $"{s.Path}|{stepper}|{top:R}|{bottom:R}");
        if (!network.Programmes.TryGetValue(key, out var optimizer))
        {
            var levels = Enumerable.Range(0, CandidateLevels).Select(i => top * Math.Pow(bottom / top, i / (double)(CandidateLevels - 1))).ToArray();
            optimizer = new StepGridOptimizer(model, schedule, stepper, levels, new StepGridOptimizerOptions { Rows = 512, Seed = _options.Seed }, token);
            network.Programmes[key] = optimizer;
        }
        var plan = optimizer.Optimize(s.Nfe).Plan;
        return stepper == s.Sampler ? plan : new SamplingPlan(schedule, plan.Times, s.Sampler);
    }

    private Network GetNetwork(Parameter p, CancellationToken token)
    {
        bool trains = p.Names.Any(n => n.StartsWith("Training.", StringComparison.Ordinal));
        string key = trains ? string.Join(";", p.Names.Where(n => n.StartsWith("Training.", StringComparison.Ordinal)).Select(n => $"{n}={p[n].GetRawText()}")) : "";
        if (_networks.TryGetValue(key, out var cached)) return cached;
        DiffusionModel model;
        if (trains)
        {
            var t = p.To<DiffusionSearchParameters>().Training;
            var o = _options.BaseTrainingOptions?.Clone() ?? new ScoreMatchingOptions();
            o.FeatureColumnName = _options.FeatureColumnName;
            o.Width = t.Width;
            o.Depth = t.Depth;
            o.Steps = t.Steps;
            o.WarmupSteps = Math.Min(o.EffectiveWarmupSteps, t.Steps / 10);
            o.LearningRate = t.LearningRate;
            o.Seed ??= _options.Seed;
            o.CancellationToken = token;
            model = _context.Diffusion().Trainers.ScoreMatching(o).Fit(_options.TrainingData!);
            NetworksTrained++;
        }
        else
        {
            model = _options.Model ?? throw new ArgumentException(
                "The parameter has no Training.* dimensions and the runner has no fixed Model: set DiffusionTrialRunnerOptions.Model for a sampling-only search.", nameof(p));
        }
        var network = new Network(model, new DiscretisationError(model, _options.Rows, _options.Seed, _options.ReferenceSteps, token),
            Standardise(_train, model), Standardise(_validation, model), _test is null ? null : Standardise(_test, model), _options.Seed);
        _networks[key] = network;
        return network;
    }

    private static SamplingSearchParameters ReadSampling(Parameter p)
    {
        bool nested = p.Names.Any(n => n.StartsWith("Sampling.", StringComparison.Ordinal));
        return nested ? p.To<DiffusionSearchParameters>().Sampling : p.To<SamplingSearchParameters>();
    }

    private double Mmd(double[] samples, double[] data)
    {
        int d = Dimension, m = Math.Min(samples.Length / d, MaxMmdRows);
        return MaximumMeanDiscrepancy.UnbiasedSquared(samples.AsSpan(0, m * d), data, d);
    }

    private float[] ReadSplit(IDataView view, string split)
    {
        int size = FeatureColumnReader.RequireVectorColumn(view.Schema, _options.FeatureColumnName, nameof(_options));
        if (size != Dimension)
            throw new ArgumentException($"The {split} data have {size} values per row in '{_options.FeatureColumnName}', the training data {Dimension}.", "options");
        var rows = FeatureColumnReader.Read(view, _options.FeatureColumnName, Dimension, dropNonFinite: false, out _, CancellationToken.None);
        if (rows.Length / Dimension < 2) throw new ArgumentException($"The {split} data have {rows.Length / Dimension} rows; at least 2 are needed.", "options");
        return rows;
    }

    private static double[] Standardise(float[] rows, DiffusionModel model) => model.ToDiffusionUnits(rows);

    /// <summary>One network and what is reused with it.</summary>
    private sealed class Network(DiffusionModel model, DiscretisationError measure, double[] train, double[] validation, double[]? test, int seed)
    {
        private readonly Dictionary<string, NoiseSchedule> _paths = new(StringComparer.Ordinal);
        private DenoiserPathMetric? _metric;

        public DiffusionModel Model { get; } = model;

        public DiscretisationError Measure { get; } = measure;

        public double[] Validation { get; } = validation;

        public double[]? Test { get; } = test;

        public double? ValidationNll { get; set; }

        public Dictionary<string, StepGridOptimizer> Programmes { get; } = new(StringComparer.Ordinal);

        public NoiseSchedule Path(string name)
        {
            if (_paths.TryGetValue(name, out var cached)) return cached;
            NoiseSchedule schedule = name switch
            {
                TrainingPath => Model.Schedule,
                GaussianOtPath => new GaussianOtSchedule(Math.Sqrt(GaussianDataPathMetric.FromData(train, Model.Dimension).Eigenvalues.Average())),
                FittedPath => GaussianPathGeodesic.Fit(Metric).Schedule,
                _ => throw new ArgumentException($"Unknown path '{name}': use '{TrainingPath}', '{GaussianOtPath}' or '{FittedPath}'.", nameof(name)),
            };
            _paths[name] = schedule;
            return schedule;
        }

        public Func<double, double> Speed(NoiseSchedule schedule) => GaussianPathKineticCost.Speed(Metric, schedule);

        /// <summary>The model's Monte Carlo path metric on the training rows, built on first use.</summary>
        private DenoiserPathMetric Metric => _metric ??= new DenoiserPathMetric(Model.Denoiser, train, 1024, seed);
    }
}
