using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// The estimator of <see cref="LikelihoodTransformer"/>, so the NLL column can be appended to an ML.NET pipeline of
/// estimators. It learns nothing: <see cref="Fit"/> checks the input schema and returns the transformer of the given model.
/// </summary>
/// <remarks><see cref="GetOutputSchema"/> builds its result through a public route because the
/// <see cref="SchemaShape.Column"/> constructor is internal to ML.NET: it asks a <c>CustomMapping</c> estimator whose
/// output is one Single column, renamed to <see cref="LikelihoodTransformOptions.OutputColumnName"/>, for its shape.</remarks>
/// <example>
/// <code>
/// var pipeline = mlContext.Transforms.Concatenate("Features", "A", "B", "C", "D")
///     .Append(mlContext.Diffusion().NegativeLogLikelihood(model));
/// IDataView scored = pipeline.Fit(data).Transform(data);
/// </code>
/// </example>
public sealed class LikelihoodEstimator : IEstimator<LikelihoodTransformer>
{
    private readonly MLContext _context;
    private readonly LikelihoodTransformOptions _options;

    internal LikelihoodEstimator(MLContext context, DiffusionModel model, LikelihoodTransformOptions? options)
    {
        ArgumentNullException.ThrowIfNull(model);
        _options = (options ?? new LikelihoodTransformOptions()).Clone();
        _options.Validate();
        _context = context;
        Model = model;
    }

    /// <summary>The model whose likelihood the transformer computes.</summary>
    public DiffusionModel Model { get; }

    /// <summary>A copy of the settings.</summary>
    public LikelihoodTransformOptions Options => _options.Clone();

    /// <summary>Checks the input column and returns a <see cref="LikelihoodTransformer"/> (nothing is trained).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">The input column is missing or of the wrong type or size (the message names it).</exception>
    /// <exception cref="InvalidOperationException">The ONNX engine could not start.</exception>
    public LikelihoodTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var transformer = new LikelihoodTransformer(Model, _options);
        try
        {
            transformer.GetOutputSchema(input.Schema);
        }
        catch
        {
            transformer.Dispose();
            throw;
        }
        return transformer;
    }

    /// <summary>The input shape plus a Single column named <see cref="LikelihoodTransformOptions.OutputColumnName"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="inputSchema"/> is null.</exception>
    /// <exception cref="ArgumentException">The input column is missing or not a known-size vector of Single of the model's size.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        string column = _options.InputColumnName;
        FeatureColumnReader.CheckShape(inputSchema, column);
        var output = SchemaDefinition.Create(typeof(ScoreRow));
        output[0].ColumnName = _options.OutputColumnName;
        return _context.Transforms.CustomMapping<NoInput, ScoreRow>((_, _) => { }, contractName: null, outputSchemaDefinition: output)
            .GetOutputSchema(inputSchema);
    }

    /// <summary>The (empty) input row of the shape-only custom mapping.</summary>
    private sealed class NoInput;

    /// <summary>The output row of the shape-only custom mapping: one Single.</summary>
    private sealed class ScoreRow
    {
        public float Score { get; set; }
    }
}
