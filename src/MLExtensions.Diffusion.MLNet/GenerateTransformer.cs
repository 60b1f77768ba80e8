using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MLExtensions.Diffusion.Onnx;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// Maps each input row, a seed or a latent noise vector, to a generated feature vector in batches: an
/// <see cref="ITransformer"/> built on ML.NET's public data types whose <see cref="Transform"/> returns a lazy view. A
/// cursor of that view pulls <see cref="GenerateOptions.BatchSize"/> input rows at a time, runs the engine once per batch
/// (for <see cref="GenerateEngine.OnnxGraph"/>: one <see cref="InferenceSession"/> run of the compiled sampler on buffers
/// bound once per cursor) and serves the rows, so memory stays bounded by the batch size whatever the row count.
/// </summary>
/// <remarks>
/// <para>Input (<see cref="GenerateOptions.InputColumnName"/>), detected by type: an <see cref="int"/>, <see cref="long"/>
/// or <see cref="uint"/> seed column (the latent of a row with seed s is <see cref="Randomness.StandardNormal.Fill"/> of d
/// values from <c>new Random(s)</c>, long seeds folded to <c>unchecked((int)(s ^ (s &gt;&gt; 32)))</c>, uint seeds
/// reinterpreted; note that <see cref="Random"/> gives s and -s the same sequence), or a known-size vector of d floats
/// holding the standard-normal latent itself. The latent is then mapped as <see cref="DiffusionModelParameters.GenerateFromNoise(ReadOnlySpan{float}, Samplers.ISampler?, int?, int)"/>
/// maps it: the model's <see cref="DiffusionModelParameters.SamplingPlan"/> (or its schedule with <see cref="GenerateOptions.Steps"/> steps
/// on the default grid and the solver <see cref="GenerateOptions.Sampler"/>, when set; <see cref="Plan"/>), same start, solver and
/// de-standardisation, so every engine returns that method's rows up to float32 rounding.</para>
/// <para>Output: the input columns, then <see cref="GenerateOptions.OutputColumnName"/> (d floats, data units) and, with
/// <see cref="GenerateOptions.AttachPathThermodynamics"/>, the float columns <c>KineticAction</c> and
/// <c>EntropyProduced</c> of <see cref="Thermodynamics.PathThermodynamics"/> along the row's own Heun trajectory, in the
/// model's standardised units. The ONNX graph does not expose the trajectory, so these come from the C# engine (an extra
/// C# Heun pass unless the engine is <see cref="GenerateEngine.CSharp"/>). With <see cref="GenerateOptions.AttachNll"/>, a last
/// float column <c>NLL</c>: the row's negative log-likelihood -ln p(y) under the model in nats, data units, as
/// <see cref="LikelihoodTransformer"/> computes it (probability-flow ODE, settings <see cref="GenerateOptions.Likelihood"/>),
/// one likelihood call per batch, only when a cursor reads the column.</para>
/// <para>Thread safety: the transformer is immutable after construction and its ONNX Runtime session is created once and
/// shared (<c>InferenceSession.Run</c> is thread-safe); every cursor owns its buffers, ORT values and runner, so several
/// threads may call <see cref="Transform"/> and iterate cursors concurrently. The C# engine's network serialises its own
/// calls. <see cref="Dispose"/> releases the session and must not race with cursors in use; after it, a cursor that needs a
/// new batch, or a new cursor of a view made before, throws <see cref="ObjectDisposedException"/> (rows of a batch already
/// generated can still be read), and a disposed cursor's <c>MoveNext</c> returns false.</para>
/// <para>ML.NET's model persistence is reserved to its friend assemblies: <see cref="ICanSaveModel.Save"/> throws; save the
/// <see cref="DiffusionModel"/> (or the compiled sampler graph) instead, or a whole fitted chain holding the transformer with
/// <c>mlContext.Diffusion().SaveChain</c> (<see cref="DiffusionChainArchive"/>).</para>
/// </remarks>
/// <example>
/// <code>
/// using var generator = mlContext.Diffusion().Generate(model, new GenerateOptions { InputColumnName = "Seed", Steps = 10 });
/// IDataView rows = generator.Transform(seeds);
/// IDataView tenMillion = mlContext.Diffusion().Generate(model, count: 10_000_000, seed: 1);   // streamed in batches
/// </code>
/// </example>
public sealed class GenerateTransformer : ITransformer, IDisposable
{
    private readonly GenerateOptions _options;
    private readonly double[] _shift = [];
    private readonly double _spread;
    private readonly LikelihoodTransformer? _likelihood;
    private int _disposed;

    /// <summary>Creates a generator for <paramref name="model"/>. The ONNX engines compile their graph (sampler or
    /// network) and create its session here, once.</summary>
    /// <param name="model">The trained model.</param>
    /// <param name="options">The options (copied; null for the defaults).</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid (see <see cref="GenerateOptions.Validate"/>), or
    /// <see cref="GenerateOptions.BatchSize"/> x d exceeds <see cref="Array.MaxLength"/> (an <see cref="ArgumentOutOfRangeException"/>
    /// with ParamName "BatchSize").</exception>
    /// <exception cref="InvalidOperationException">An explicit GPU provider cannot be used (see <see cref="OnnxSessionFactory"/>).</exception>
    public GenerateTransformer(DiffusionModel model, GenerateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _options = (options ?? new GenerateOptions()).Clone();
        _options.Validate();
        Model = model;
        Dimension = model.Dimension;
        CheckBatchArrays(_options.BatchSize, Dimension, nameof(GenerateOptions.BatchSize));
        var (schedule, times, _) = model.Resolve(null, _options.Steps);
        Plan = new SamplingPlan(schedule, times, _options.Sampler ?? model.SamplingPlan.Sampler);
        if (_options.AttachPathThermodynamics && Plan.Sampler != GenerateSamplerKind.Heun)
            throw new ArgumentOutOfRangeException(nameof(options), Plan.Sampler,
                $"'{nameof(GenerateOptions.AttachPathThermodynamics)}' integrates along the Heun trajectory, but the model's plan uses {Plan.Sampler}; set '{nameof(GenerateOptions.Sampler)}' to Heun.");
        (_shift, _spread) = model.StartLaw(Plan);
        _likelihood = _options.AttachNll ? CreateLikelihood(model, _options.Likelihood) : null;
        try
        {
            if (_options.Engine == GenerateEngine.CSharp)
            {
                ModelName = "C# engine";
                return;
            }
            var onnx = _options.Engine == GenerateEngine.OnnxGraph
                ? model.ExportSamplerOnnx(Plan).Model
                : model.ExportNetworkOnnx();
            ModelName = _options.Engine == GenerateEngine.OnnxGraph ? $"compiled {Plan.Sampler} sampler graph" : "exported network graph";
            var settings = ResolveSettings(_options.SessionSettings);
            Session = OnnxSessionFactory.Create(onnx, settings);
            ExecutionProvider = settings.ExecutionProvider;
        }
        catch
        {
            _likelihood?.Dispose();
            throw;
        }
    }

    /// <summary>The scorer of <see cref="GenerateOptions.AttachNll"/>; a setting that does not fit the model (e.g. TMin
    /// beyond its horizon) is reported under ParamName <c>Likelihood.</c>setting.</summary>
    private static LikelihoodTransformer CreateLikelihood(DiffusionModel model, LikelihoodTransformOptions? options)
    {
        try
        {
            return new LikelihoodTransformer(model, options);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"'{nameof(GenerateOptions.Likelihood)}' is invalid: {e.Message}", $"{nameof(GenerateOptions.Likelihood)}.{e.ParamName}", e);
        }
    }

    private GenerateTransformer(InferenceSession session, string modelName, int dimension, GenerateOptions options, OnnxExecutionProvider provider)
    {
        _options = options;
        Session = session;
        ModelName = modelName;
        Dimension = dimension;
        ExecutionProvider = provider;
    }

    /// <summary>Loads a compiled sampler graph (<see cref="DiffusionModelParameters.ExportSamplerOnnx(Samplers.ISampler?, int?)"/>, e.g. a shipped
    /// <c>sampler.onnx</c>: input <c>noise</c> [N, d], output <c>samples</c> [N, d] in data units) as a generator. The graph
    /// fixes the solver and steps; <see cref="GenerateOptions.Sampler"/> and <see cref="GenerateOptions.Steps"/> are not used.</summary>
    /// <param name="path">The <c>.onnx</c> file.</param>
    /// <param name="options">The options (copied; null for the defaults); the engine must be <see cref="GenerateEngine.OnnxGraph"/>
    /// and <see cref="GenerateOptions.AttachPathThermodynamics"/> and <see cref="GenerateOptions.AttachNll"/> false (all three need the model).</param>
    /// <param name="expectedDimension">The required d, or null to accept the file's own.</param>
    /// <returns>A generator that owns its session.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is blank, or an option is invalid or needs the model, or
    /// <see cref="GenerateOptions.BatchSize"/> x d exceeds <see cref="Array.MaxLength"/>.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a loadable ONNX model, is not a deterministic compiled sampler
    /// or has another dimension; the message names the file.</exception>
    public static GenerateTransformer LoadSamplerOnnx(string path, GenerateOptions? options = null, int? expectedDimension = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var copy = (options ?? new GenerateOptions()).Clone();
        copy.Validate();
        if (copy.Engine != GenerateEngine.OnnxGraph)
            throw new ArgumentException($"A sampler file runs only on the {nameof(GenerateEngine.OnnxGraph)} engine; the {copy.Engine} engine needs the DiffusionModel.", nameof(options));
        if (copy.AttachPathThermodynamics)
            throw new ArgumentException($"'{nameof(GenerateOptions.AttachPathThermodynamics)}' needs the DiffusionModel's denoiser; a sampler file has only the compiled graph.", nameof(options));
        if (copy.AttachNll)
            throw new ArgumentException($"'{nameof(GenerateOptions.AttachNll)}' needs the DiffusionModel's denoiser; a sampler file has only the compiled graph.", nameof(options));
        string full = Path.GetFullPath(path);
        var settings = ResolveSettings(copy.SessionSettings);
        var session = OnnxSessionFactory.CreateFromFile(full, settings);
        try
        {
            var (d, draws) = OnnxModelSignature.ValidateSampler(session, expectedDimension, full);
            CheckBatchArrays(copy.BatchSize, d, nameof(GenerateOptions.BatchSize));
            if (draws > 0)
                throw new InvalidDataException($"ONNX model '{full}' is a stochastic sampler (input '{SamplerGraphCompiler.InputStepNoise}'); the generator runs deterministic samplers only.");
            return new GenerateTransformer(session, full, d, copy, settings.ExecutionProvider);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Features per generated row, d.</summary>
    public int Dimension { get; }

    /// <summary>The model, or null for a generator loaded from a sampler file.</summary>
    public DiffusionModel? Model { get; }

    /// <summary>A copy of the options.</summary>
    public GenerateOptions Options => _options.Clone();

    /// <summary>The provider the ONNX session runs on (<see cref="OnnxExecutionProvider.Auto"/> resolved to Cuda or Cpu);
    /// null for the <see cref="GenerateEngine.CSharp"/> engine.</summary>
    public OnnxExecutionProvider? ExecutionProvider { get; }

    /// <summary>How the engine's model is named in messages (the file path for <see cref="LoadSamplerOnnx"/>).</summary>
    public string ModelName { get; }

    /// <summary>True: each row's seed or latent determines its generated row, so besides the batched <see cref="Transform"/>
    /// rows can be generated one at a time (<see cref="GetRowToRowMapper"/>), e.g. by <c>mlContext.Model.CreatePredictionEngine</c>.</summary>
    public bool IsRowToRowMapper => true;

    internal InferenceSession? Session { get; }

    internal ReadOnlySpan<double> Times => Plan!.Times;

    /// <summary>The plan this generator runs (schedule, grid, solver); null for one loaded from a sampler file, whose graph
    /// fixes them.</summary>
    public SamplingPlan? Plan { get; }

    /// <summary>The input schema plus the generated column(s).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="inputSchema"/> is null.</exception>
    /// <exception cref="ArgumentException">The input column is missing, or is neither an int/long/uint seed nor a
    /// known-size vector of d floats (the message names the column and its type).</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ResolveInput(inputSchema, nameof(inputSchema));
        return OutputSchema(inputSchema);
    }

    /// <summary>A row-to-row mapper (ML.NET's <see cref="IRowToRowMapper"/>, as <c>CreatePredictionEngine</c> uses it) that
    /// generates each row alone from its seed or latent, a batch of one through this generator's engine: output schema
    /// <see cref="GetOutputSchema"/>, rows equal to those of <see cref="Transform"/> up to float rounding of the batched
    /// engine calls. The NLL column, when attached, scores the row alone with the probe seed
    /// <see cref="LikelihoodTransformOptions.Seed"/> of <see cref="GenerateOptions.Likelihood"/> (per-row deterministic).
    /// A mapped row holds an engine runner until it is disposed.</summary>
    /// <param name="inputSchema">The schema of the rows to map.</param>
    /// <returns>The mapper.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputSchema"/> is null.</exception>
    /// <exception cref="ArgumentException">The input column is missing, or is neither an int/long/uint seed nor a
    /// known-size vector of d floats (named in the message); when a row is read, a non-finite latent (named by row).</exception>
    /// <exception cref="ObjectDisposedException">The transformer was disposed (now, or before a row is generated).</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ThrowIfDisposed();
        var (kind, column) = ResolveInput(inputSchema, nameof(inputSchema));
        return new GenerateRowMapper(this, kind, inputSchema, OutputSchema(inputSchema), column);
    }

    /// <summary>A lazy view of <paramref name="input"/> with the generated column(s) appended: one generated row per input
    /// row, computed batch by batch as cursors move.</summary>
    /// <param name="input">Rows with the input column.</param>
    /// <returns>The view.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">The input column is missing or of the wrong type or size (named in the message);
    /// when a cursor reads it, a latent vector holding a non-finite value (named by row).</exception>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var (kind, column) = ResolveInput(input.Schema, nameof(input));
        return new BatchGeneratedDataView(input, this, kind, column, 0);
    }

    /// <summary>A view of <paramref name="count"/> generated rows (columns <c>Row</c>, the row index i as
    /// <see cref="long"/>, then the generated column(s)), produced batch by batch as cursors move and never stored. The
    /// latent of row i is <see cref="Randomness.StandardNormal.Fill"/> of d values from a SplitMix64 stream keyed by
    /// (seed, i), so a row does not depend on the batch size or on the other rows.</summary>
    /// <param name="count">Rows, at least 1.</param>
    /// <param name="seed">Seed of the stream.</param>
    /// <returns>The view.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive or not below 2^40.</exception>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public IDataView GenerateRows(long count, int seed)
    {
        if (count < 1 || count >= 1L << 40)
            throw new ArgumentOutOfRangeException(nameof(count), count, "'count' must lie in [1, 2^40).");
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var rows = new RowIndexDataView(count, RowColumnName);
        return new BatchGeneratedDataView(rows, this, GenerateLatentKind.Counter, rows.Schema[0], seed);
    }

    /// <summary>The latent that <see cref="GenerateRows"/> uses for row <paramref name="row"/> of the stream with
    /// <paramref name="seed"/>.</summary>
    /// <param name="seed">Seed of the stream.</param>
    /// <param name="row">Row index, in [0, 2^40).</param>
    /// <param name="latent">Destination of d standard-normal values (any length; d for a model row).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is outside [0, 2^40).</exception>
    public static void StreamLatent(int seed, long row, Span<float> latent) => LatentStream.Fill(seed, row, latent);

    /// <summary>The name of the row-index column of <see cref="GenerateRows"/>, "Row".</summary>
    public const string RowColumnName = "Row";

    /// <summary>Not supported: ML.NET keeps its model format to its friend assemblies.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("GenerateTransformer cannot be saved through mlContext.Model.Save; save the DiffusionModel (DiffusionModel.Save) or its sampler graph instead, or the whole fitted chain with mlContext.Diffusion().SaveChain.");

    /// <summary>Releases the ONNX Runtime session (and that of an ONNX likelihood engine).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Session?.Dispose();
        _likelihood?.Dispose();
    }

    /// <summary>The schema: input columns, then the generated column, the path-thermodynamics columns and the NLL column if asked for.</summary>
    internal DataViewSchema OutputSchema(DataViewSchema inputSchema)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumn(_options.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, Dimension));
        if (_options.AttachPathThermodynamics)
        {
            builder.AddColumn(GenerateOptions.KineticActionColumnName, NumberDataViewType.Single);
            builder.AddColumn(GenerateOptions.EntropyProducedColumnName, NumberDataViewType.Single);
        }
        if (_options.AttachNll) builder.AddColumn(GenerateOptions.NllColumnName, NumberDataViewType.Single);
        return builder.ToSchema();
    }

    /// <summary>The NLL (nats, data units) of generated rows, by <see cref="LikelihoodTransformer"/>'s own scoring; batch
    /// <paramref name="batchIndex"/> of a cursor uses the probe seed that <see cref="LikelihoodTransformer"/> gives its batch
    /// of that index.</summary>
    internal void ScoreNll(ReadOnlySpan<float> samples, Span<double> nll, long batchIndex)
    {
        ThrowIfDisposed();
        _likelihood!.ScoreBatch(samples, nll, batchIndex);
    }

    /// <summary>Throws once <see cref="Dispose"/> has run: cursors call it before every engine run, so a released ONNX
    /// session is never handed to ONNX Runtime.</summary>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>x = shift + spread eps, the model's start at times[0] (standardised units).</summary>
    internal void StartState(ReadOnlySpan<float> latents, Span<double> x)
    {
        int d = Dimension;
        for (int i = 0; i < x.Length; i++) x[i] = _shift[i % d] + _spread * latents[i];
    }

    /// <summary>y = mean + scale z of the model's feature scaler.</summary>
    internal void ToDataUnits(ReadOnlySpan<double> z, Span<float> y)
    {
        ReadOnlySpan<double> mean = Model!.FeatureScaler.Mean, scale = Model.FeatureScaler.Scale;
        int d = Dimension;
        for (int i = 0; i < z.Length; i++) y[i] = (float)(mean[i % d] + scale[i % d] * z[i]);
    }

    private (GenerateLatentKind Kind, DataViewSchema.Column Column) ResolveInput(DataViewSchema schema, string paramName)
    {
        string name = _options.InputColumnName;
        var column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentException(
                $"The input has no column '{name}' ({nameof(GenerateOptions.InputColumnName)}); its columns are " +
                $"{(schema.Count == 0 ? "(none)" : string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}' ({c.Type})")))}.", paramName);
        var type = column.Type;
        if (type == NumberDataViewType.Int32) return (GenerateLatentKind.Int32Seed, column);
        if (type == NumberDataViewType.Int64) return (GenerateLatentKind.Int64Seed, column);
        if (type == NumberDataViewType.UInt32) return (GenerateLatentKind.UInt32Seed, column);
        if (type is VectorDataViewType vector && vector.ItemType == NumberDataViewType.Single && vector.IsKnownSize)
        {
            if (vector.Size != Dimension)
                throw new ArgumentException(
                    $"The latent column '{name}' has {vector.Size} values per row, but the generator's dimension is {Dimension}.", paramName);
            return (GenerateLatentKind.Vector, column);
        }
        throw new ArgumentException(
            $"The input column '{name}' has type {type}; it must be a seed (Int32, Int64 or UInt32) or a known-size vector of {Dimension} Single latents.", paramName);
    }

    /// <summary>Throws when <paramref name="batchSize"/> x <paramref name="dimension"/> values do not fit in one array.</summary>
    internal static void CheckBatchArrays(int batchSize, int dimension, string option)
    {
        if ((long)batchSize * dimension > Array.MaxLength)
            throw new ArgumentOutOfRangeException(option, batchSize,
                $"'{option}' = {batchSize} rows of {dimension} values exceeds the largest array ({Array.MaxLength} values); use at most {Array.MaxLength / dimension} rows.");
    }

    /// <summary>The settings with Auto resolved, so the session is created on the resolved provider with one warning at most.</summary>
    private static OnnxSessionSettings ResolveSettings(OnnxSessionSettings? settings)
    {
        settings ??= OnnxSessionSettings.Default;
        var provider = OnnxSessionFactory.ResolveProvider(settings);
        return new OnnxSessionSettings
        {
            ExecutionProvider = provider,
            DeviceId = settings.DeviceId,
            IntraOpThreads = settings.IntraOpThreads,
            OptimizeGraph = settings.OptimizeGraph,
            EnableCpuMemoryArena = settings.EnableCpuMemoryArena,
            EnableMemoryPattern = settings.EnableMemoryPattern,
            Warning = settings.Warning,
        };
    }
}
