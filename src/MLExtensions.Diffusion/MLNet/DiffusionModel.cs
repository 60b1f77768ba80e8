using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// A trained diffusion model: the per-feature scaling of the data (<see cref="FeatureScaler"/>), the
/// <see cref="NeuralDenoiser"/> (network + isotropic standardisation) acting on the scaled rows, the schedule it samples
/// along, the options it was trained with and a training summary. Made by <see cref="ScoreMatchingEstimator.Fit"/> or
/// <see cref="DiffusionCatalog.LoadModel"/>; saved with <see cref="Save(string)"/>.
/// </summary>
/// <remarks>
/// <para>Units. With <see cref="FeatureScaling.PerFeature"/> (the default) the diffusion lives in standardised space:
/// the training rows were mapped to z = (y - mean) / std per feature (<see cref="FeatureScaler"/>), the
/// <see cref="Denoiser"/>, the <see cref="Schedule"/>'s noise levels and every thermodynamic quantity computed from them
/// (velocity fields, entropy production, Wasserstein speeds, ...) are in these z units, and the generating members
/// (<see cref="Generate"/>, <see cref="GenerateFromNoise"/>, <see cref="GenerateDataView"/>, <see cref="Transform"/>,
/// <see cref="ExportSamplerOnnx"/>) map the sampled z back to data units, y = mean + std z. With
/// <see cref="FeatureScaling.Isotropic"/> the scaler is the identity and the diffusion runs in data units (up to the
/// denoiser's own single scale).</para>
/// <para>Generation starts at t_0 = times[0] (the schedule's largest noise level) from the Gaussian that matches the
/// forward marginal's first two isotropic moments, x = m_0 mean + sqrt(m_0^2 scale^2 + sigma_0^2) eps with eps ~ N(0, I)
/// and (mean, scale) of the denoiser's isotropic standardiser (all in z units), then runs an <see cref="ISampler"/> (default <see cref="HeunSampler"/>) down the
/// EDM rho = 7 grid of <see cref="SamplingTimes"/> to t = 0, and de-standardises the result.</para>
/// <para><see cref="Save(string)"/> also writes ONNX graphs of the network (<see cref="ExportNetworkOnnx"/>) and of the
/// Heun 20-step sampler in data units (<see cref="ExportSamplerOnnx"/>) into the zip; loading rebuilds the model from the
/// weights and does not read them.</para>
/// <para><see cref="Transform"/> is the ML.NET face of the same map: it appends one generated row per input row as
/// <see cref="ScoreMatchingOptions.GeneratedColumnName"/> (Heun, <see cref="ScoreMatchingOptions.SamplingSteps"/> steps;
/// deterministic), from the standard-normal latents in the column <see cref="ScoreMatchingOptions.NoiseColumnName"/> when
/// the input has it, else from latents seeded by <see cref="ScoreMatchingOptions.GenerationSeed"/>. It is not a
/// row-to-row mapper: rows are generated in batches when the first cursor asks for the column.</para>
/// <para>ML.NET's own model persistence (<c>mlContext.Model.Save</c>) is reserved to ML.NET's friend assemblies, so
/// <see cref="ICanSaveModel.Save"/> throws; use <see cref="Save(string)"/> and <see cref="DiffusionCatalog.LoadModel"/>
/// (format: <see cref="DiffusionModelArchive"/>).</para>
/// </remarks>
/// <example>
/// <code>
/// var model = mlContext.Diffusion().Trainers.ScoreMatching(new ScoreMatchingOptions { Steps = 3000, Seed = 1 }).Fit(data);
/// float[] rows = model.Generate(count: 500, seed: 7);   // 500 x model.Dimension, row-major
/// model.Save("model.zip");
/// var again = mlContext.Diffusion().LoadModel("model.zip");
/// </code>
/// </example>
public sealed class DiffusionModel : ITransformer
{
    private const int ChunkRows = 4096;
    private readonly Dictionary<string, byte[]> _additionalEntries;
    private readonly ScoreMatchingOptions _options;

    internal DiffusionModel(NeuralDenoiser denoiser, NoiseSchedule schedule, Standardizer featureScaler, ScoreMatchingOptions options,
        TrainingSummary summary, IReadOnlyDictionary<string, byte[]>? additionalEntries = null)
    {
        if (featureScaler.Dimension != denoiser.Dimension)
            throw new ArgumentException($"The feature scaler has dimension {featureScaler.Dimension}, the denoiser {denoiser.Dimension}.", nameof(featureScaler));
        Denoiser = denoiser;
        Schedule = schedule;
        FeatureScaler = featureScaler;
        _options = options.Clone();
        Summary = summary;
        _additionalEntries = additionalEntries is null ? [] : new Dictionary<string, byte[]>(additionalEntries, StringComparer.Ordinal);
    }

    /// <summary>Features per row, d.</summary>
    public int Dimension => Denoiser.Dimension;

    /// <summary>The trained denoiser (network with EMA weights, isotropic standardisation, parametrisation); it acts on
    /// rows in the units of <see cref="FeatureScaler"/>'s output (standardised units under
    /// <see cref="FeatureScaling.PerFeature"/>).</summary>
    public NeuralDenoiser Denoiser { get; }

    /// <summary>The schedule the model samples along.</summary>
    public NoiseSchedule Schedule { get; }

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

    /// <summary>What training saw and did.</summary>
    public TrainingSummary Summary { get; }

    /// <summary>Extra archive entries kept with the model (e.g. ONNX graphs), by entry name; written again by <see cref="Save(string)"/>.</summary>
    public IReadOnlyDictionary<string, byte[]> AdditionalEntries => _additionalEntries;

    /// <summary>Always false: rows are generated in batches, not mapped one by one.</summary>
    public bool IsRowToRowMapper => false;

    /// <summary>The sampling grid: steps + 1 decreasing times, EDM rho = 7 spacing of the noise level sigma / m from the
    /// schedule's largest level down to min(0.002 scale, sigma_max / 2), then t = 0.</summary>
    /// <param name="steps">Solver steps, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is not positive.</exception>
    public double[] SamplingTimes(int steps)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "'steps' must be at least 1.");
        double top = Schedule.Sigma(Schedule.MaxTime) / Schedule.M(Schedule.MaxTime);
        double bottom = Math.Min(0.002 * Standardizer.Scale[0], 0.5 * top);
        return TimeGrid.EdmRho(Schedule, steps, bottom, top);
    }

    /// <summary>Generates rows from seeded standard-normal latents.</summary>
    /// <param name="count">Rows to generate, at least 1.</param>
    /// <param name="seed">Seed of the latents (and of a stochastic sampler's noise): same seed, same rows.</param>
    /// <param name="sampler">The solver (default <see cref="HeunSampler"/>).</param>
    /// <param name="steps">Solver steps (default 20).</param>
    /// <returns>count x <see cref="Dimension"/> floats, row-major, in data units.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="steps"/> is not positive.</exception>
    public float[] Generate(int count, int seed, ISampler? sampler = null, int steps = 20)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "'count' must be at least 1.");
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "'steps' must be at least 1.");
        var random = new Random(seed);
        var noise = new double[checked(count * Dimension)];
        StandardNormal.Fill(random, noise);
        return Run(noise, sampler ?? new HeunSampler(), steps, random);
    }

    /// <summary>Generates one row per latent row of <paramref name="noise"/> (standard-normal eps, row-major).</summary>
    /// <param name="noise">rows x d latents.</param>
    /// <param name="sampler">The solver (default <see cref="HeunSampler"/>).</param>
    /// <param name="steps">Solver steps (default 20).</param>
    /// <param name="seed">Seed of a stochastic sampler's noise (ignored by deterministic ones).</param>
    /// <returns>rows x d floats, in data units.</returns>
    /// <exception cref="ArgumentException"><paramref name="noise"/> is empty, not a multiple of d, or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is not positive.</exception>
    public float[] GenerateFromNoise(ReadOnlySpan<float> noise, ISampler? sampler = null, int steps = 20, int seed = 0)
    {
        if (noise.IsEmpty || noise.Length % Dimension != 0)
            throw new ArgumentException($"The noise length {noise.Length} is not a positive multiple of the dimension {Dimension}.", nameof(noise));
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "'steps' must be at least 1.");
        var x = new double[noise.Length];
        for (int i = 0; i < x.Length; i++)
        {
            if (!float.IsFinite(noise[i])) throw new ArgumentException($"The noise holds a non-finite value at index {i} (row {i / Dimension}).", nameof(noise));
            x[i] = noise[i];
        }
        return Run(x, sampler ?? new HeunSampler(), steps, new Random(seed));
    }

    /// <summary>Generates rows as an <see cref="IDataView"/> with one column of d floats.</summary>
    /// <param name="count">Rows to generate, at least 1.</param>
    /// <param name="seed">Seed of the latents.</param>
    /// <param name="sampler">The solver (default <see cref="HeunSampler"/>).</param>
    /// <param name="steps">Solver steps (default 20).</param>
    /// <param name="columnName">The column's name (default "Features").</param>
    /// <returns>A view whose rows are <see cref="Generate"/>'s rows; they are computed when the view is created.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="steps"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="columnName"/> is null or blank.</exception>
    public IDataView GenerateDataView(int count, int seed, ISampler? sampler = null, int steps = 20, string columnName = ScoreMatchingOptions.DefaultFeatureColumnName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(columnName);
        var rows = Generate(count, seed, sampler, steps);
        return new GeneratedDataView(null, columnName, Dimension, count, () => rows);
    }

    /// <summary>The input schema plus the generated column.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="inputSchema"/> is null.</exception>
    /// <exception cref="ArgumentException">The noise column is present but not a known-size float vector of size d.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        CheckNoiseColumn(inputSchema, nameof(inputSchema));
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumn(_options.GeneratedColumnName, new VectorDataViewType(NumberDataViewType.Single, Dimension));
        return builder.ToSchema();
    }

    /// <summary>Not supported: the model generates in batches (<see cref="IsRowToRowMapper"/> is false).</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw new NotSupportedException("DiffusionModel generates rows in batches and is not a row-to-row mapper; use Transform or Generate.");

    /// <summary>Appends the generated column, one generated row per input row (Heun sampler,
    /// <see cref="ScoreMatchingOptions.SamplingSteps"/> steps). When the input has the column
    /// <see cref="ScoreMatchingOptions.NoiseColumnName"/>, row i is the sample reached from the latent in row i of it;
    /// otherwise row i is row i of <c>Generate(rows, <see cref="ScoreMatchingOptions.GenerationSeed"/>)</c> (so an ML.NET
    /// pipeline ending in the trainer can still be fitted and applied to its training data). Lazy: rows are generated on the
    /// first cursor that asks for the column.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">The noise column is present but of the wrong type or size (and, when read, if it
    /// holds a non-finite value).</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        bool hasNoise = CheckNoiseColumn(input.Schema, nameof(input));
        string noiseColumn = _options.NoiseColumnName;
        int steps = _options.SamplingSteps, seed = _options.GenerationSeed;
        return new GeneratedDataView(input, _options.GeneratedColumnName, Dimension, input.GetRowCount(), () =>
        {
            if (!hasNoise)
            {
                long rows = input.GetRowCount() ?? CountRows(input);
                return rows == 0 ? [] : Generate(checked((int)rows), seed, new HeunSampler(), steps);
            }
            var noise = FeatureColumnReader.Read(input, noiseColumn, Dimension, dropNonFinite: false, out _, CancellationToken.None);
            return noise.Length == 0 ? [] : GenerateFromNoise(noise, new HeunSampler(), steps);
        });
    }

    /// <summary>The network as an ONNX graph (<see cref="NetworkOnnxExporter"/>: inputs x [N, d], m [N, 1], sigma [N, 1];
    /// output x0), with the current weights. It is the <see cref="Denoiser"/>: x and x0 are in the units of
    /// <see cref="FeatureScaler"/>'s output (standardised units under <see cref="FeatureScaling.PerFeature"/>; map data rows
    /// with z = (y - FeatureScaler.Mean) / FeatureScaler.Scale).</summary>
    /// <returns>The graph.</returns>
    public OnnxModel ExportNetworkOnnx() => NetworkOnnxExporter.Export(Denoiser);

    /// <summary>
    /// The whole generation as one ONNX graph (<see cref="SamplerGraphCompiler"/>), in data units: input <c>noise</c>
    /// [N, d] of standard-normal latents, output <c>samples</c> [N, d] equal to <see cref="GenerateFromNoise"/> of the same
    /// latents (same start x = m_0 mean + spread noise, same grid <see cref="SamplingTimes"/>, then y = mean + std z of
    /// <see cref="FeatureScaler"/>), up to float32 rounding (about 1e-5 of each feature's scale).
    /// </summary>
    /// <param name="sampler">The solver (default <see cref="HeunSampler"/>); one that <see cref="SamplerGraphCompiler"/>
    /// supports. A stochastic one adds the input <c>step_noise</c>: filled by <see cref="SamplerGraph.FillStepNoise"/> from
    /// <c>new Random(seed)</c>, the graph reproduces <c>GenerateFromNoise(noise, sampler, steps, seed)</c> for batches of up to
    /// 4096 rows (the C# path draws per block of 4096 rows).</param>
    /// <param name="steps">Solver steps (default 20).</param>
    /// <returns>The compiled graph and its description.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="sampler"/> cannot be compiled.</exception>
    public SamplerGraph ExportSamplerOnnx(ISampler? sampler = null, int steps = 20)
    {
        double[] times = SamplingTimes(steps);
        var (shift, spread) = StartMoments(times[0]);
        var startScale = new double[Dimension];
        Array.Fill(startScale, spread);
        return SamplerGraphCompiler.Compile(Denoiser, Schedule, times, sampler ?? new HeunSampler(),
            (shift, startScale), (FeatureScaler.Mean.ToArray(), FeatureScaler.Scale.ToArray()));
    }

    /// <summary>Writes the model to a zip file (atomically: a temporary file in the same folder, then a move), with the
    /// ONNX graphs <c>onnx/network.onnx</c> (<see cref="ExportNetworkOnnx"/>) and <c>onnx/sampler-heun-20.onnx</c>
    /// (<see cref="ExportSamplerOnnx"/> with Heun, 20 steps) beside the weights.</summary>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or blank.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Save(string path) => DiffusionModelArchive.Save(this, path);

    /// <summary>Not supported: ML.NET keeps its model format to its friend assemblies. Use <see cref="Save(string)"/>.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException(
            "DiffusionModel cannot be saved through mlContext.Model.Save (ML.NET keeps its model format to its own assemblies). " +
            "Use DiffusionModel.Save(path) and mlContext.Diffusion().LoadModel(path).");

    private float[] Run(double[] eps, ISampler sampler, int steps, Random random)
    {
        int d = Dimension;
        double[] times = SamplingTimes(steps);
        var (shift, spread) = StartMoments(times[0]);
        for (int i = 0; i < eps.Length; i++) eps[i] = shift[i % d] + spread * eps[i];
        for (int start = 0; start < eps.Length; start += ChunkRows * d)
        {
            int length = Math.Min(ChunkRows * d, eps.Length - start);
            sampler.Sample(Denoiser, Schedule, times, eps.AsSpan(start, length), random);
        }
        var result = new float[eps.Length];
        ReadOnlySpan<double> outerMean = FeatureScaler.Mean, outerScale = FeatureScaler.Scale;
        for (int i = 0; i < eps.Length; i++) result[i] = (float)(outerMean[i % d] + outerScale[i % d] * eps[i]);
        return result;
    }

    /// <summary>The start x = shift + spread eps at t0: shift = m_0 mean, spread = sqrt(m_0^2 scale^2 + sigma_0^2) of the
    /// denoiser's isotropic standardiser (z units).</summary>
    internal (double[] Shift, double Spread) StartMoments(double t0)
    {
        double m0 = Schedule.M(t0), s0 = Schedule.Sigma(t0), scale = Standardizer.Scale[0];
        var shift = new double[Dimension];
        for (int j = 0; j < shift.Length; j++) shift[j] = m0 * Standardizer.Mean[j];
        return (shift, Math.Sqrt(m0 * m0 * scale * scale + s0 * s0));
    }

    /// <summary>The outer scaler of <paramref name="scaling"/> for training rows: per-feature mean and population standard
    /// deviation (a constant feature gets scale 1), or the identity.</summary>
    internal static Standardizer FitFeatureScaler(ReadOnlySpan<float> data, int dimension, FeatureScaling scaling) =>
        scaling == FeatureScaling.PerFeature ? Standardizer.Fit(data, dimension, isotropic: false) : IdentityScaler(dimension);

    /// <summary>Mean 0, scale 1: the scaler of <see cref="FeatureScaling.Isotropic"/> models.</summary>
    internal static Standardizer IdentityScaler(int dimension)
    {
        var scale = new double[dimension];
        Array.Fill(scale, 1.0);
        return Standardizer.Create(new double[dimension], scale);
    }

    private static long CountRows(IDataView input)
    {
        using var cursor = input.GetRowCursor([]);
        long rows = 0;
        while (cursor.MoveNext()) rows++;
        return rows;
    }

    /// <summary>Whether the noise column is present; if so it must be a float vector of size d.</summary>
    private bool CheckNoiseColumn(DataViewSchema schema, string paramName)
    {
        if (schema.GetColumnOrNull(_options.NoiseColumnName) is null) return false;
        int size = FeatureColumnReader.RequireVectorColumn(schema, _options.NoiseColumnName, paramName);
        if (size != Dimension)
            throw new ArgumentException($"The noise column '{_options.NoiseColumnName}' has {size} values per row, but the model's dimension is {Dimension}.", paramName);
        return true;
    }
}
