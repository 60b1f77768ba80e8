using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Models;

/// <summary>
/// A trained diffusion model without ML.NET: the per-feature scaling of the data (<see cref="FeatureScaler"/>), the
/// <see cref="NeuralDenoiser"/> (network + isotropic standardisation) acting on the scaled rows, the schedule it samples
/// along, its <see cref="SamplingPlan"/>, the options it was trained with and a training summary. Loaded with
/// <see cref="Load"/>, saved with <see cref="Save(string)"/> (format: <see cref="DiffusionModelArchive"/>). This is what
/// a production app that only samples or scores needs; the ML.NET transformer <c>MLExtensions.Diffusion.MLNet.DiffusionModel</c>
/// (made by the trainer and by <c>mlContext.Diffusion().LoadModel</c>) derives from it, so every member here is a member there.
/// </summary>
/// <remarks>
/// <para>Units. With <see cref="FeatureScaling.PerFeature"/> (the default) the diffusion lives in standardised space:
/// the training rows were mapped to z = (y - mean) / std per feature (<see cref="FeatureScaler"/>), the
/// <see cref="Denoiser"/>, the <see cref="Schedule"/>'s noise levels and every thermodynamic quantity computed from them
/// (velocity fields, entropy production, Wasserstein speeds, ...) are in these z units, and the generating members
/// (<see cref="Generate"/>, <see cref="GenerateFromNoise(ReadOnlySpan{float}, ISampler?, int?, int)"/>,
/// <see cref="ExportSamplerOnnx(ISampler?, int?)"/>) map the sampled z back to data units, y = mean + std z. With
/// <see cref="FeatureScaling.Isotropic"/> the scaler is the identity and the diffusion runs in data units (up to the
/// denoiser's own single scale).</para>
/// <para>Generation follows the model's <see cref="SamplingPlan"/> (schedule, grid, solver; by default Heun with
/// <see cref="ScoreMatchingOptions.SamplingSteps"/> steps on the uniform-angle grid of <see cref="SamplingTimes"/>, from the top
/// of the noise range the network was trained on). It starts at t_0 = times[0] from the Gaussian that matches the forward
/// marginal's first two isotropic moments (<see cref="StartLaw"/>), runs the solver to t = 0, and de-standardises the
/// result. <see cref="WithSamplingPlan"/> gives the same network another plan (e.g. one found by
/// <c>mlContext.Diffusion().OptimizeSchedule</c>).</para>
/// <para><see cref="Save(string)"/> also writes the plan and ONNX graphs of the network (<see cref="ExportNetworkOnnx"/>) and
/// of the plan's whole generation in data units (<see cref="ExportSamplerOnnx(ISampler?, int?)"/>) into the zip; loading rebuilds
/// the model from the weights and the plan and does not read the graphs.</para>
/// <para>Immutable, so safe to share between threads.</para>
/// </remarks>
/// <example>
/// <code>
/// var model = DiffusionModelParameters.Load("model.zip");   // no ML.NET needed
/// float[] rows = model.Generate(count: 500, seed: 7);       // 500 x model.Dimension, row-major, data units
/// </code>
/// </example>
public class DiffusionModelParameters
{
    private const int ChunkRows = 4096;
    private readonly Dictionary<string, byte[]> _additionalEntries;
    private readonly ScoreMatchingOptions _options;

    /// <summary>How far above the top of <see cref="TrainedNoiseLevelRange"/> a plan may start: a factor of 6, which for
    /// the default log-normal training law is exp(mean + 5 sd) of ln(sigma/m), about 121.</summary>
    public const double FollowableNoiseLevelFactor = 6.0;

    /// <summary>The number of standard deviations of the log-normal training law that <see cref="TrainedNoiseLevelRange"/>
    /// spans on each side of its mean (3.5: all but 0.05 % of the training draws).</summary>
    public const double TrainedRangeStandardDeviations = 3.5;

    private readonly SamplingPlan _plan;

    internal DiffusionModelParameters(NeuralDenoiser denoiser, NoiseSchedule schedule, Standardizer featureScaler, ScoreMatchingOptions options,
        TrainingSummary summary, IReadOnlyDictionary<string, byte[]>? additionalEntries = null, SamplingPlan? plan = null, FeatureEncoding? encoding = null)
    {
        if (featureScaler.Dimension != denoiser.Dimension)
            throw new ArgumentException($"The feature scaler has dimension {featureScaler.Dimension}, the denoiser {denoiser.Dimension}.", nameof(featureScaler));
        Denoiser = denoiser;
        Schedule = schedule;
        FeatureScaler = featureScaler;
        _options = options.Clone();
        Summary = summary;
        _additionalEntries = additionalEntries is null ? [] : new Dictionary<string, byte[]>(additionalEntries, StringComparer.Ordinal);
        _plan = plan ?? DefaultSamplingPlan(_options.SamplingSteps);
        if (plan is not null) CheckFollowable(plan, nameof(plan));
        FeatureEncoding = encoding ?? FeatureEncoding.Identity(denoiser.Dimension);
        if (FeatureEncoding.Dimension != denoiser.Dimension)
            throw new ArgumentException($"The feature encoding has dimension {FeatureEncoding.Dimension}, the denoiser {denoiser.Dimension}.", nameof(encoding));
    }

    /// <summary>The same model (shares the immutable parts); for the ML.NET transformer that derives from this class.</summary>
    /// <param name="other">The model to copy.</param>
    internal DiffusionModelParameters(DiffusionModelParameters other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Denoiser = other.Denoiser;
        Schedule = other.Schedule;
        FeatureScaler = other.FeatureScaler;
        _options = other._options;
        Summary = other.Summary;
        _additionalEntries = other._additionalEntries;
        _plan = other._plan;
        FeatureEncoding = other.FeatureEncoding;
    }

    /// <summary>Reads a model written by <see cref="Save(string)"/> (any format version; see <see cref="DiffusionModelArchive"/>).</summary>
    /// <param name="path">The model zip.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or blank.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a model archive, is corrupt or truncated, or its parts disagree (the message names the part).</exception>
    public static DiffusionModelParameters Load(string path) => DiffusionModelArchive.Load(path);

    /// <summary>The per-feature maps between data units and the units <see cref="FeatureScaler"/> standardises (bounds,
    /// quantile-normal map, integer rounding, categorical decoding; see <see cref="Features.FeatureEncoding"/>): the identity
    /// unless the model was trained with <see cref="ScoreMatchingOptions.FeatureBounds"/>, <see cref="ScoreMatchingOptions.InferBounds"/>,
    /// integer or categorical features, or <see cref="FeatureScaling.QuantileNormal"/>. Every generating member applies its
    /// <see cref="Features.FeatureEncoding.Decode"/> last; the ONNX sampler graph does not (see <see cref="ExportSamplerOnnx(ISampler?, int?)"/>).</summary>
    public FeatureEncoding FeatureEncoding { get; }

    /// <summary>Features per row, d.</summary>
    public int Dimension => Denoiser.Dimension;

    /// <summary>The trained denoiser (network with EMA weights, isotropic standardisation, parametrisation); it acts on
    /// rows in the units of <see cref="FeatureScaler"/>'s output (standardised units under
    /// <see cref="FeatureScaling.PerFeature"/>).</summary>
    public NeuralDenoiser Denoiser { get; }

    /// <summary>The schedule the model was trained with (<see cref="ScoreMatchingOptions.CreateSchedule"/>). Sampling follows
    /// <see cref="SamplingPlan"/>'s schedule, which is this one unless a plan replaced it.</summary>
    public NoiseSchedule Schedule { get; }

    /// <summary>How the model samples: schedule, grid and solver. Every generating member (<see cref="Generate"/>,
    /// <see cref="GenerateFromNoise(ReadOnlySpan{float}, Samplers.ISampler?, int?, int)"/>, <see cref="ExportSamplerOnnx(ISampler?, int?)"/>,
    /// and in ML.NET <c>GenerateDataView</c>, <c>Transform</c> and <c>GenerateTransformer</c>) samples along its schedule; called without a solver or step count they use the
    /// whole plan. The default is <see cref="DefaultSamplingPlan"/> with <see cref="ScoreMatchingOptions.SamplingSteps"/> steps.</summary>
    public SamplingPlan SamplingPlan => _plan;

    /// <summary>The noise levels sigma/m (z units) the network was trained on: exp(mean -/+ 3.5 sd) of the log-normal law
    /// (<see cref="TrainedRangeStandardDeviations"/>), or, for <see cref="NoiseLevelDistribution.UniformTime"/>, the
    /// training schedule's levels at <see cref="ScoreMatchingOptions.UniformTimeMin"/> and at MaxTime.</summary>
    public (double Low, double High) TrainedNoiseLevelRange
    {
        get
        {
            if (_options.NoiseLevels == NoiseLevelDistribution.UniformTime)
                return (Level(Schedule, _options.UniformTimeMin), Level(Schedule, Schedule.MaxTime));
            double mean = _options.LogNormalMean, spread = TrainedRangeStandardDeviations * _options.LogNormalStandardDeviation;
            return (Math.Exp(mean - spread), Math.Exp(mean + spread));
        }
    }

    /// <summary>The denoiser's own isotropic standardisation, learned at fit time on the scaled rows (close to the identity
    /// under <see cref="FeatureScaling.PerFeature"/>).</summary>
    public Standardizer Standardizer => Denoiser.Standardizer;

    /// <summary>The outer per-feature scaling z = (y - mean) / scale between data units y and the units z the diffusion
    /// lives in: the training split's per-feature mean and population standard deviation under
    /// <see cref="FeatureScaling.PerFeature"/>, the identity (mean 0, scale 1) under <see cref="FeatureScaling.Isotropic"/>
    /// and for models saved before the scaler existed (format version 1).</summary>
    public Standardizer FeatureScaler { get; }

    /// <summary>The options the model was trained with (a fresh copy on every call, without progress sink and
    /// cancellation token: the model itself is immutable).</summary>
    public ScoreMatchingOptions Options => _options.Clone();

    /// <summary>The options without a copy, for derived types that only read them.</summary>
    internal ScoreMatchingOptions OptionsView => _options;

    /// <summary>What training saw and did.</summary>
    public TrainingSummary Summary { get; }

    /// <summary>Extra archive entries kept with the model (e.g. ONNX graphs), by entry name; written again by <see cref="Save(string)"/>.</summary>
    public IReadOnlyDictionary<string, byte[]> AdditionalEntries => _additionalEntries;

    /// <summary>The default grid on the plan's schedule: steps + 1 decreasing times, uniform in the polar angle
    /// phi = atan(sigma/m) (<see cref="SamplingGridKind.UniformAngle"/>; uniform t on the cosine schedule) from the top of the
    /// range the network was trained on (the high end of <see cref="TrainedNoiseLevelRange"/>, or the schedule's largest
    /// level if that is lower) down to 0.</summary>
    /// <remarks>Measured on the shipped models (docs/benchmarks.md, "Sampling plans"): this grid roughly halves the
    /// discretisation error of the EDM rho = 7 grid from the same top at NFE 5-15, and its error falls monotonically with
    /// NFE from 3 to 13 on both.</remarks>
    /// <param name="steps">Solver steps, at least 1.</param>
    /// <returns>The times.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is not positive.</exception>
    public double[] SamplingTimes(int steps) => DefaultTimes(_plan.Schedule, steps);

    /// <summary>The default plan: Heun (or <paramref name="sampler"/>) on the training schedule's default grid
    /// (<see cref="SamplingTimes"/>), starting at the top of the trained noise range.</summary>
    /// <param name="steps">Solver steps, at least 1.</param>
    /// <param name="sampler">The solver (default Heun).</param>
    /// <returns>The plan.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is not positive or <paramref name="sampler"/> not defined.</exception>
    public SamplingPlan DefaultSamplingPlan(int steps, GenerateSamplerKind sampler = GenerateSamplerKind.Heun) =>
        new(Schedule, DefaultTimes(Schedule, steps), sampler);

    /// <summary>A model that samples along <paramref name="plan"/> and is otherwise this one (same network, scaling, options
    /// and summary; additional entries are kept).</summary>
    /// <param name="plan">The plan.</param>
    /// <returns>The new model; this one is unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="plan"/> is null.</exception>
    /// <exception cref="ArgumentException">The plan starts at a noise level the network cannot follow: above
    /// <see cref="FollowableNoiseLevelFactor"/> times the top of <see cref="TrainedNoiseLevelRange"/>.</exception>
    public DiffusionModelParameters WithSamplingPlan(SamplingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        CheckFollowable(plan, nameof(plan));
        return new DiffusionModelParameters(Denoiser, Schedule, FeatureScaler, _options, Summary, _additionalEntries, plan, FeatureEncoding);
    }

    /// <summary>The Gaussian generation starts from at the first time of <paramref name="plan"/>'s grid, matching the
    /// forward marginal's first two isotropic moments: x = m_0 mean + sqrt(m_0^2 scale^2 + sigma_0^2) eps, eps ~ N(0, I),
    /// with (mean, scale) of the denoiser's isotropic <see cref="Standardizer"/> (z units).</summary>
    /// <param name="plan">The plan (null for <see cref="SamplingPlan"/>).</param>
    /// <returns>The per-feature mean (z units) and the common standard deviation.</returns>
    public (double[] Mean, double StandardDeviation) StartLaw(SamplingPlan? plan = null)
    {
        plan ??= _plan;
        return StartMoments(plan.Schedule, plan.Times[0]);
    }

    /// <summary>Generates rows from seeded standard-normal latents.</summary>
    /// <remarks>Seed contract, shared with the streaming <c>mlContext.Diffusion().Generate(model, count, seed)</c>
    /// (<c>GenerateTransformer.GenerateRows</c>): the latent of row i is <see cref="LatentStream.Fill"/>(seed, i),
    /// d standard-normal draws (rounded to float) from a counter-based stream keyed by (seed, i). So both return the same rows
    /// for the same seed (exactly with <c>GenerateEngine.CSharp</c>, up to float32 rounding with the ONNX engines),
    /// and row i does not depend on <paramref name="count"/>: <c>Generate(10, s)</c> is the first 10 rows of
    /// <c>Generate(1000, s)</c>. The rows are <c>GenerateFromNoise(latents, sampler, steps, seed)</c> of those latents; a
    /// stochastic sampler's step noise comes from <c>new Random(seed)</c>, as there.</remarks>
    /// <param name="count">Rows to generate, at least 1.</param>
    /// <param name="seed">Seed of the latents (and of a stochastic sampler's noise): same seed, same rows.</param>
    /// <param name="sampler">The solver (null: the plan's).</param>
    /// <param name="steps">Solver steps on the default grid of the plan's schedule (<see cref="SamplingTimes"/>); null: the
    /// plan's grid.</param>
    /// <returns>count x <see cref="Dimension"/> floats, row-major, in data units.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="steps"/> is not positive, or
    /// <paramref name="count"/> is above <see cref="MaximumGenerateCount"/> (the result is one array).</exception>
    public float[] Generate(int count, int seed, ISampler? sampler = null, int? steps = null)
    {
        CheckCount(count);
        var (schedule, times, solver) = Resolve(sampler, steps);
        int d = Dimension;
        var noise = new double[count * d];
        var stream = new CounterRandom();
        var draw = new double[d];
        for (int row = 0; row < count; row++)
        {
            stream.Reset(CounterRandom.RowKey(seed, row));
            StandardNormal.Fill(stream, draw);
            for (int j = 0; j < d; j++) noise[row * d + j] = (float)draw[j];
        }
        return Run(noise, schedule, times, solver, new Random(seed));
    }

    /// <summary>The most rows <see cref="Generate"/> and ML.NET's <c>GenerateDataView</c> return: <see cref="Array.MaxLength"/> / d,
    /// since the rows are returned (and computed, in doubles) in one array. The streaming
    /// <c>mlContext.Diffusion().Generate(model, count, seed)</c> has no such limit.</summary>
    public int MaximumGenerateCount => Array.MaxLength / Dimension;

    internal void CheckCount(int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "'count' must be at least 1.");
        if (count > MaximumGenerateCount)
            throw new ArgumentOutOfRangeException(nameof(count), count,
                $"'count' = {count} rows of {Dimension} values exceeds the largest array ({Array.MaxLength} values): at most {MaximumGenerateCount} rows ({nameof(MaximumGenerateCount)}). " +
                "Stream larger counts with mlContext.Diffusion().Generate(model, count, seed).");
    }

    /// <summary>Generates one row per latent row of <paramref name="noise"/> (standard-normal eps, row-major), assuming rows
    /// of width d: any buffer whose length is a multiple of d is cut into rows of d values, so a buffer of rows of another
    /// width is silently reinterpreted. Use <see cref="GenerateFromNoise(ReadOnlySpan{float}, int, int, ISampler?, int?, int)"/>
    /// to state the shape and have it checked.</summary>
    /// <param name="noise">rows x d latents.</param>
    /// <param name="sampler">The solver (null: the plan's).</param>
    /// <param name="steps">Solver steps on the default grid of the plan's schedule; null: the plan's grid.</param>
    /// <param name="seed">Seed of a stochastic sampler's noise (ignored by deterministic ones).</param>
    /// <returns>rows x d floats, in data units.</returns>
    /// <exception cref="ArgumentException"><paramref name="noise"/> is empty, not a multiple of d, or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is not positive.</exception>
    public float[] GenerateFromNoise(ReadOnlySpan<float> noise, ISampler? sampler = null, int? steps = null, int seed = 0)
    {
        if (noise.IsEmpty || noise.Length % Dimension != 0)
            throw new ArgumentException($"The noise length {noise.Length} is not a positive multiple of the dimension {Dimension}.", nameof(noise));
        return GenerateFromNoise(noise, noise.Length / Dimension, Dimension, sampler, steps, seed);
    }

    /// <summary>Generates one row per latent row of <paramref name="noise"/>, a row-major buffer of the stated shape
    /// <paramref name="rows"/> x <paramref name="width"/>, which must be rows x d; otherwise as
    /// <see cref="GenerateFromNoise(ReadOnlySpan{float}, ISampler?, int?, int)"/>.</summary>
    /// <param name="noise">rows x width standard-normal latents, row-major.</param>
    /// <param name="rows">Rows in <paramref name="noise"/>, at least 1.</param>
    /// <param name="width">Values per row of <paramref name="noise"/>; must equal <see cref="Dimension"/>.</param>
    /// <param name="sampler">The solver (null: the plan's).</param>
    /// <param name="steps">Solver steps on the default grid of the plan's schedule; null: the plan's grid.</param>
    /// <param name="seed">Seed of a stochastic sampler's noise (ignored by deterministic ones).</param>
    /// <returns>rows x d floats, in data units.</returns>
    /// <exception cref="ArgumentException"><paramref name="width"/> is not d (the message names the expected and the actual
    /// width), the length of <paramref name="noise"/> is not rows x width, or a latent is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="steps"/> is not positive.</exception>
    public float[] GenerateFromNoise(ReadOnlySpan<float> noise, int rows, int width, ISampler? sampler = null, int? steps = null, int seed = 0)
    {
        RowShape.Check(noise.Length, rows, width, Dimension, nameof(noise), nameof(rows), nameof(width));
        var (schedule, times, solver) = Resolve(sampler, steps);
        var x = new double[noise.Length];
        for (int i = 0; i < x.Length; i++)
        {
            if (!float.IsFinite(noise[i])) throw new ArgumentException($"The noise holds a non-finite value at index {i} (row {i / Dimension}).", nameof(noise));
            x[i] = noise[i];
        }
        return Run(x, schedule, times, solver, new Random(seed));
    }

    /// <summary>The network as an ONNX graph (<see cref="NetworkOnnxExporter"/>: inputs x [N, d], m [N, 1], sigma [N, 1];
    /// output x0), with the current weights. It is the <see cref="Denoiser"/>: x and x0 are in the units of
    /// <see cref="FeatureScaler"/>'s output (standardised units under <see cref="FeatureScaling.PerFeature"/>; map data rows
    /// with z = (y - FeatureScaler.Mean) / FeatureScaler.Scale).</summary>
    /// <returns>The graph.</returns>
    public OnnxModel ExportNetworkOnnx() => NetworkOnnxExporter.Export(Denoiser);

    /// <summary>
    /// The whole generation as one ONNX graph (<see cref="SamplerGraphCompiler"/>), in data units: input <c>noise</c>
    /// [N, d] of standard-normal latents, output <c>samples</c> [N, d] equal to <see cref="GenerateFromNoise(ReadOnlySpan{float}, Samplers.ISampler?, int?, int)"/> of the same
    /// latents (same schedule, start law <see cref="StartLaw"/>, grid and solver, then y = mean + std z of
    /// <see cref="FeatureScaler"/>), up to float32 rounding (about 1e-5 of each feature's scale). When the model has feature
    /// transforms (<see cref="FeatureEncoding"/> not <see cref="Features.FeatureEncoding.IsIdentity"/>), the graph stops before
    /// them: apply <c>model.FeatureEncoding.Decode(samples)</c> to its output (as ML.NET's <c>GenerateTransformer</c> does after
    /// each ONNX Runtime call).
    /// </summary>
    /// <param name="sampler">The solver (null: the plan's); one that <see cref="SamplerGraphCompiler"/>
    /// supports. A stochastic one adds the input <c>step_noise</c>: filled by <see cref="SamplerGraph.FillStepNoise"/> from
    /// <c>new Random(seed)</c>, the graph reproduces <c>GenerateFromNoise(noise, sampler, steps, seed)</c> for batches of up to
    /// 4096 rows (the C# path draws per block of 4096 rows).</param>
    /// <param name="steps">Solver steps on the default grid of the plan's schedule; null: the plan's grid.</param>
    /// <returns>The compiled graph and its description.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="sampler"/> cannot be compiled.</exception>
    public SamplerGraph ExportSamplerOnnx(ISampler? sampler = null, int? steps = null)
    {
        var (schedule, times, solver) = Resolve(sampler, steps);
        return Compile(schedule, times, solver);
    }

    /// <summary>The whole generation along <paramref name="plan"/> as one ONNX graph, in data units (as
    /// <see cref="ExportSamplerOnnx(ISampler?, int?)"/>; <c>WithSamplingPlan(plan).ExportSamplerOnnx()</c> gives the same graph).</summary>
    /// <param name="plan">The plan.</param>
    /// <returns>The compiled graph and its description.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="plan"/> is null.</exception>
    /// <exception cref="ArgumentException">The plan starts at a noise level the network cannot follow.</exception>
    public SamplerGraph ExportSamplerOnnx(SamplingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        CheckFollowable(plan, nameof(plan));
        return Compile(plan.Schedule, plan.Times.ToArray(), plan.CreateSampler());
    }

    private SamplerGraph Compile(NoiseSchedule schedule, double[] times, ISampler sampler)
    {
        var (shift, spread) = StartMoments(schedule, times[0]);
        var startScale = new double[Dimension];
        Array.Fill(startScale, spread);
        return SamplerGraphCompiler.Compile(Denoiser, schedule, times, sampler,
            (shift, startScale), (FeatureScaler.Mean.ToArray(), FeatureScaler.Scale.ToArray()));
    }

    /// <summary>Writes the model to a zip file (atomically: a temporary file in the same folder, then a move), with the
    /// sampling plan and the ONNX graphs <c>onnx/network.onnx</c> (<see cref="ExportNetworkOnnx"/>) and <c>onnx/sampler.onnx</c>
    /// (the plan's generation, <see cref="ExportSamplerOnnx(ISampler?, int?)"/>) beside the weights.</summary>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or blank.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="NotSupportedException">The plan's schedule cannot be written (see <see cref="ScheduleJson"/>).</exception>
    public void Save(string path) => DiffusionModelArchive.Save(this, path);

    /// <summary>The schedule, grid and solver of a generating call: the plan's schedule always; the plan's grid unless
    /// <paramref name="steps"/> asks for the default grid with that many steps; the plan's solver unless one is given.</summary>
    internal (NoiseSchedule Schedule, double[] Times, ISampler Sampler) Resolve(ISampler? sampler, int? steps)
    {
        if (steps is { } n && n < 1) throw new ArgumentOutOfRangeException(nameof(steps), n, "'steps' must be at least 1.");
        double[] times = steps is { } count ? DefaultTimes(_plan.Schedule, count) : _plan.Times.ToArray();
        return (_plan.Schedule, times, sampler ?? _plan.CreateSampler());
    }

    /// <summary>The default grid on <paramref name="schedule"/> (see <see cref="SamplingTimes"/>).</summary>
    private double[] DefaultTimes(NoiseSchedule schedule, int steps)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "'steps' must be at least 1.");
        double top = Math.Min(Level(schedule, schedule.MaxTime), TrainedNoiseLevelRange.High);
        return TimeGrid.FromNoiseLevels(schedule, SamplingPlan.UniformAngleLevels(steps, top));
    }

    private void CheckFollowable(SamplingPlan plan, string paramName)
    {
        double limit = FollowableNoiseLevelFactor * TrainedNoiseLevelRange.High, top = plan.TopNoiseLevel;
        if (!(top <= limit))
            throw new ArgumentException(
                $"The plan starts at noise level sigma/m = {top:G4}, which the network cannot follow: it was trained on levels up to " +
                $"{TrainedNoiseLevelRange.High:G4} and a plan may start at most {FollowableNoiseLevelFactor} times higher ({limit:G4}). " +
                "Start the grid at a lower time.", paramName);
    }

    private static double Level(NoiseSchedule schedule, double t) => schedule.Sigma(t) / schedule.M(t);

    private float[] Run(double[] eps, NoiseSchedule schedule, double[] times, ISampler sampler, Random random)
    {
        int d = Dimension;
        RunStandardised(eps, schedule, times, sampler, random);
        var result = new float[eps.Length];
        ReadOnlySpan<double> outerMean = FeatureScaler.Mean, outerScale = FeatureScaler.Scale;
        for (int i = 0; i < eps.Length; i++) result[i] = (float)(outerMean[i % d] + outerScale[i % d] * eps[i]);
        FeatureEncoding.Decode(result);
        return result;
    }

    /// <summary>Maps standard-normal latents <paramref name="eps"/> (in place) to samples in z units (before the outer
    /// de-standardisation): start law at times[0], then the solver in blocks of 4096 rows. No check that the network can
    /// follow the grid (measurements such as <see cref="DiscretisationError"/> evaluate plans the public API rejects).</summary>
    internal void RunStandardised(Span<double> eps, NoiseSchedule schedule, ReadOnlySpan<double> times, ISampler sampler, Random? random = null)
    {
        int d = Dimension;
        DrawStart(eps, schedule, times[0]);
        for (int start = 0; start < eps.Length; start += ChunkRows * d)
        {
            int length = Math.Min(ChunkRows * d, eps.Length - start);
            sampler.Sample(Denoiser, schedule, times, eps.Slice(start, length), random);
        }
    }

    /// <summary>Maps standard-normal latents (in place) to the start law at <paramref name="t0"/> of <paramref name="schedule"/>.</summary>
    internal void DrawStart(Span<double> eps, NoiseSchedule schedule, double t0)
    {
        int d = Dimension;
        var (shift, spread) = StartMoments(schedule, t0);
        for (int i = 0; i < eps.Length; i++) eps[i] = shift[i % d] + spread * eps[i];
    }

    /// <summary>The start x = shift + spread eps at t0 of <paramref name="schedule"/>: shift = m_0 mean, spread =
    /// sqrt(m_0^2 scale^2 + sigma_0^2) of the denoiser's isotropic standardiser (z units).</summary>
    internal (double[] Shift, double Spread) StartMoments(NoiseSchedule schedule, double t0)
    {
        double m0 = schedule.M(t0), s0 = schedule.Sigma(t0), scale = Standardizer.Scale[0];
        var shift = new double[Dimension];
        for (int j = 0; j < shift.Length; j++) shift[j] = m0 * Standardizer.Mean[j];
        return (shift, Math.Sqrt(m0 * m0 * scale * scale + s0 * s0));
    }

    /// <summary>The outer scaler of <paramref name="scaling"/> for training rows: per-feature mean and population standard
    /// deviation (a constant feature gets scale 1), or the identity.</summary>
    internal static Standardizer FitFeatureScaler(ReadOnlySpan<float> data, int dimension, FeatureScaling scaling) =>
        scaling == FeatureScaling.PerFeature ? Standardizer.Fit(data, dimension, isotropic: false) : IdentityScaler(dimension);

    /// <summary>Rows in data units mapped to the units the diffusion lives in: <see cref="FeatureEncoding"/>, then
    /// <see cref="FeatureScaler"/>.</summary>
    internal double[] ToDiffusionUnits(ReadOnlySpan<float> rows)
    {
        int d = Dimension;
        var z = new double[rows.Length];
        if (FeatureEncoding.IsIdentity) for (int i = 0; i < z.Length; i++) z[i] = rows[i];
        else FeatureEncoding.Encode(rows, z);
        ReadOnlySpan<double> mean = FeatureScaler.Mean, scale = FeatureScaler.Scale;
        for (int i = 0; i < z.Length; i++) z[i] = (z[i] - mean[i % d]) / scale[i % d];
        return z;
    }

    /// <summary>Mean 0, scale 1: the scaler of <see cref="FeatureScaling.Isotropic"/> models.</summary>
    internal static Standardizer IdentityScaler(int dimension)
    {
        var scale = new double[dimension];
        Array.Fill(scale, 1.0);
        return Standardizer.Create(new double[dimension], scale);
    }

}
