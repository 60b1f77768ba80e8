using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Likelihood;
using MLExtensions.Diffusion.Onnx;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// Appends the per-row negative log-likelihood under a <see cref="DiffusionModel"/> as a Single column (default "NLL"):
/// -ln p(y) in nats per row, in data units, by the probability-flow ODE (<see cref="ProbabilityFlowLikelihood"/>). High
/// values mark rows the model finds unlikely: the basis of anomaly scoring.
/// </summary>
/// <remarks>
/// <para>Change of variables. The model's diffusion lives in the units z = (y - mean) / std of its
/// <see cref="DiffusionModelParameters.FeatureScaler"/>, so the engine returns ln p_z(z). The density of y = mean + std z is
/// p_y(y) = p_z(z) / prod_j std_j, hence NLL_data(y) = -ln p_z(z) + sum_j ln std_j (<see cref="LogScaleCorrection"/>). It
/// is a constant shift per model: rankings are the same in both units, but only data-unit values compare with other
/// density models fitted to the raw columns. A model with feature transforms (<see cref="DiffusionModelParameters.FeatureEncoding"/>)
/// first maps y to u, and NLL_data(y) = NLL_u(u) - ln |du/dy| (<see cref="FeatureEncoding.LogJacobian"/>).</para>
/// <para>Laziness and batching. <see cref="Transform"/> returns a view at once; a cursor that asks for the column reads
/// the input column in batches of <see cref="LikelihoodTransformOptions.BatchSize"/> rows through a second input cursor
/// and computes one batch with one <see cref="ProbabilityFlowLikelihood"/> call when a row of it is first read. Columns
/// of the input pass through unchanged.</para>
/// <para>Missing values. A NaN or infinite value in a row whose likelihood is computed is an error: the
/// <see cref="ArgumentException"/> names the row, the column and the slot (filter such rows first, e.g. with
/// <c>mlContext.Data.FilterRowsByMissingValues</c>).</para>
/// <para>Thread safety. The transformer is immutable; every cursor has its own buffers. The default engine
/// (<see cref="LikelihoodEngine.Compiled"/>, <see cref="CompiledLikelihood"/>) takes a workspace from a pool per call and
/// needs no lock; the others serialise their calls in the network (<see cref="Training.NeuralDenoiser"/>,
/// <see cref="OnnxJacobianDenoiser"/>). Either way several threads may transform and read at once and get the serial
/// results.</para>
/// <para>ML.NET model persistence (<c>mlContext.Model.Save</c>) is reserved to ML.NET's friend assemblies; save the
/// <see cref="DiffusionModel"/> and rebuild the transformer from it, or save a whole fitted chain holding it with
/// <c>mlContext.Diffusion().SaveChain</c> (<see cref="DiffusionChainArchive"/>).</para>
/// </remarks>
/// <example>
/// <code>
/// DiffusionModel model = mlContext.Diffusion().LoadModel("models/penguins/model.zip");
/// var nll = mlContext.Diffusion().NegativeLogLikelihood(model).Fit(data);   // data has a Single[4] "Features" column
/// IDataView scored = nll.Transform(data);
/// float[] scores = scored.GetColumn&lt;float&gt;("NLL").ToArray();
/// </code>
/// </example>
public sealed class LikelihoodTransformer : ITransformer, IDisposable
{
    private readonly LikelihoodTransformOptions _options;
    private readonly OnnxJacobianDenoiser? _onnx;
    private readonly LikelihoodScorer _scorer;

    /// <summary>Builds the transformer; for <see cref="LikelihoodEngine.Onnx"/> it exports the Jacobian-vector-product
    /// graph and opens its session.</summary>
    /// <param name="model">The diffusion model.</param>
    /// <param name="options">Settings (copied); <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid (see <see cref="LikelihoodTransformOptions.Validate"/>), or
    /// <see cref="LikelihoodTransformOptions.BatchSize"/> x d exceeds <see cref="Array.MaxLength"/> (an
    /// <see cref="ArgumentOutOfRangeException"/> with ParamName "BatchSize").</exception>
    /// <exception cref="InvalidOperationException">The ONNX engine could not start (the inner exception says why).</exception>
    public LikelihoodTransformer(DiffusionModel model, LikelihoodTransformOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _options = (options ?? new LikelihoodTransformOptions()).Clone();
        _options.Validate();
        _options.ToLikelihoodOptions(0).Validate(model.Schedule, model.Dimension);
        GenerateTransformer.CheckBatchArrays(_options.BatchSize, model.Dimension, nameof(LikelihoodTransformOptions.BatchSize));
        Model = model;
        if (_options.Engine == LikelihoodEngine.Onnx)
        {
            try
            {
                _onnx = OnnxJacobianDenoiser.Create(NetworkOnnxExporter.ExportJacobianVectorProduct(model.Denoiser), _options.SessionSettings);
            }
            catch (Exception e) when (e is InvalidDataException or InvalidOperationException or NotSupportedException)
            {
                throw new InvalidOperationException($"The ONNX likelihood engine could not start: {e.Message}", e);
            }
        }
        _scorer = new LikelihoodScorer(model, _options.ToCompiledOptions(), compiled: _options.Engine == LikelihoodEngine.Compiled, denoiser: _onnx);
    }

    /// <summary>The model whose likelihood is computed.</summary>
    public DiffusionModel Model { get; }

    /// <summary>A copy of the settings.</summary>
    public LikelihoodTransformOptions Options => _options.Clone();

    /// <summary>Features per row, d.</summary>
    public int Dimension => Model.Dimension;

    /// <summary>sum_j ln std_j of the model's <see cref="DiffusionModelParameters.FeatureScaler"/>: NLL in data units minus NLL in
    /// standardised units.</summary>
    public double LogScaleCorrection => _scorer.LogScaleCorrection;

    /// <summary>True: besides the batched <see cref="Transform"/>, each row can be scored alone
    /// (<see cref="GetRowToRowMapper"/>), so <c>mlContext.Model.CreatePredictionEngine</c> works over this transformer.</summary>
    public bool IsRowToRowMapper => true;

    /// <summary>The negative log-likelihood of rows given directly (no <see cref="IDataView"/>), assuming rows of width d:
    /// any buffer whose length is a multiple of d is cut into rows of d values, so rows of another width are silently
    /// reinterpreted. Use <see cref="Score(ReadOnlySpan{float}, int, int, int)"/> to state the shape and have it checked.</summary>
    /// <param name="rows">rows x d values in data units, row-major; finite.</param>
    /// <param name="seed">Seed of the Hutchinson probes (ignored by the exact divergence).</param>
    /// <returns>-ln p(y) per row, in nats, data units.</returns>
    /// <exception cref="ArgumentException"><paramref name="rows"/> is empty, not a multiple of d, or holds a non-finite
    /// value (the message names the row).</exception>
    /// <exception cref="ObjectDisposedException">The transformer (ONNX engine) was disposed.</exception>
    public double[] Score(ReadOnlySpan<float> rows, int seed = 0)
    {
        int d = Dimension;
        if (rows.IsEmpty || rows.Length % d != 0)
            throw new ArgumentException($"The input length {rows.Length} is not a positive multiple of the dimension {d}.", nameof(rows));
        return Score(rows, rows.Length / d, d, seed);
    }

    /// <summary>The negative log-likelihood of rows given directly, as a row-major buffer of the stated shape
    /// <paramref name="rowCount"/> x <paramref name="width"/>, which must be rowCount x d.</summary>
    /// <param name="rows">rowCount x width values in data units, row-major; finite.</param>
    /// <param name="rowCount">Rows in <paramref name="rows"/>, at least 1.</param>
    /// <param name="width">Values per row; must equal <see cref="Dimension"/>.</param>
    /// <param name="seed">Seed of the Hutchinson probes (ignored by the exact divergence).</param>
    /// <returns>-ln p(y) per row, in nats, data units.</returns>
    /// <exception cref="ArgumentException"><paramref name="width"/> is not d (the message names the expected and the actual
    /// width), the length of <paramref name="rows"/> is not rowCount x width, or a value is not finite (the message names
    /// the row).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rowCount"/> is not positive.</exception>
    /// <exception cref="ObjectDisposedException">The transformer (ONNX engine) was disposed.</exception>
    public double[] Score(ReadOnlySpan<float> rows, int rowCount, int width, int seed = 0) => _scorer.Score(rows, rowCount, width, seed);

    /// <summary>The input schema plus the Single output column.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="inputSchema"/> is null.</exception>
    /// <exception cref="ArgumentException">The input column is missing, not a known-size vector of Single, or of another
    /// size than the model's dimension (the message names the column).</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        CheckInput(inputSchema, nameof(inputSchema));
        return LikelihoodDataView.BuildSchema(inputSchema, _options.OutputColumnName);
    }

    /// <summary>A row-to-row mapper (ML.NET's <see cref="IRowToRowMapper"/>, as <c>CreatePredictionEngine</c> uses it) that
    /// scores each row alone: output schema <see cref="GetOutputSchema"/>, the NLL of a row equal to
    /// <see cref="Score(ReadOnlySpan{float}, int)"/>(row, <see cref="LikelihoodTransformOptions.Seed"/>). With the exact divergence (the default) it
    /// agrees with <see cref="Transform"/> (rows are integrated independently; only float rounding of the batched network
    /// calls may differ); with Hutchinson's estimate every row draws its probes from <see cref="LikelihoodTransformOptions.Seed"/>
    /// (per-row deterministic: a record always gets the same score), where <see cref="Transform"/> draws them per batch.</summary>
    /// <param name="inputSchema">The schema of the rows to map.</param>
    /// <returns>The mapper.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputSchema"/> is null.</exception>
    /// <exception cref="ArgumentException">The input column is missing, not a known-size vector of Single, or of another
    /// size than the model's dimension (the message names the column); when a row is read, a non-finite value (named by
    /// row and slot).</exception>
    /// <exception cref="ObjectDisposedException">When a row is scored, the ONNX engine's session was disposed.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        var output = GetOutputSchema(inputSchema);
        return new LikelihoodRowMapper(this, inputSchema, output, inputSchema[_options.InputColumnName]);
    }

    /// <summary>A lazy view of <paramref name="input"/> with the NLL column appended.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">The input column is missing or of the wrong type or size (the message names it);
    /// when read, a row with a non-finite value (the message names the row).</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input.Schema, nameof(input));
        return new LikelihoodDataView(input, this, _options.InputColumnName, _options.OutputColumnName, _options.BatchSize, _options.Seed);
    }

    /// <summary>Not supported: ML.NET keeps its model format to its friend assemblies.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException(
            "LikelihoodTransformer cannot be saved through mlContext.Model.Save (ML.NET keeps its model format to its own assemblies). " +
            "Save the DiffusionModel (DiffusionModel.Save) and rebuild the transformer with mlContext.Diffusion().NegativeLogLikelihood, " +
            "or save the whole fitted chain with mlContext.Diffusion().SaveChain.");

    /// <summary>Releases the ONNX session of <see cref="LikelihoodEngine.Onnx"/> (nothing for the managed engine).</summary>
    public void Dispose() => _onnx?.Dispose();

    /// <summary>The Hutchinson probe seed of batch <paramref name="batchIndex"/> of a cursor: <c>seed + 1000003 b</c>.</summary>
    internal static int BatchSeed(int seed, long batchIndex) => unchecked(seed + 1_000_003 * (int)batchIndex);

    /// <summary><see cref="ScoreCore"/> for batch <paramref name="batchIndex"/> of a cursor (probe seed <see cref="BatchSeed"/>
    /// of <see cref="LikelihoodTransformOptions.Seed"/>).</summary>
    internal void ScoreBatch(ReadOnlySpan<float> rows, Span<double> nll, long batchIndex) =>
        ScoreCore(rows, nll, BatchSeed(_options.Seed, batchIndex));

    /// <summary>The NLL of one finite row with the probe seed <see cref="LikelihoodTransformOptions.Seed"/> (the row mapper's).</summary>
    internal void ScoreRow(ReadOnlySpan<float> row, Span<double> nll) => ScoreCore(row, nll, _options.Seed);

    /// <summary>Standardises the (finite) rows, runs the engine and writes NLL in data units (<see cref="LikelihoodScorer"/>).</summary>
    internal void ScoreCore(ReadOnlySpan<float> rows, Span<double> nll, int seed)
    {
        _scorer.ScoreFinite(rows, nll, seed);
    }

    private void CheckInput(DataViewSchema schema, string paramName)
    {
        int size = FeatureColumnReader.RequireVectorColumn(schema, _options.InputColumnName, paramName);
        if (size != Dimension)
            throw new ArgumentException($"Column '{_options.InputColumnName}' has {size} values per row, but the model's dimension is {Dimension}.", paramName);
    }
}
