using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>The diffusion operations of an <see cref="MLContext"/>: <c>mlContext.Diffusion()</c>.</summary>
/// <example>
/// <code>
/// var model = mlContext.Diffusion().Trainers.ScoreMatching(steps: 2000, seed: 1).Fit(data);
/// model.Save("model.zip");
/// DiffusionModel again = mlContext.Diffusion().LoadModel("model.zip");
/// </code>
/// </example>
public sealed class DiffusionCatalog
{
    internal DiffusionCatalog(MLContext context)
    {
        Context = context;
        Trainers = new DiffusionTrainers(context);
    }

    /// <summary>The context this catalog belongs to.</summary>
    public MLContext Context { get; }

    /// <summary>The trainers.</summary>
    public DiffusionTrainers Trainers { get; }

    /// <summary>Loads a model written by <see cref="DiffusionModelParameters.Save(string)"/> (format <see cref="DiffusionModelArchive"/>).</summary>
    /// <param name="path">The model file.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or blank.</exception>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is corrupt, truncated, foreign, newer, or inconsistent (the message names it).</exception>
    public DiffusionModel LoadModel(string path) => DiffusionModel.Load(path);

    /// <summary>Saves a whole fitted chain (ML.NET's transformers and ours, e.g. a pipeline ending in the NLL transformer)
    /// as one zip file (format <see cref="DiffusionChainArchive"/>); <c>mlContext.Model.Save</c> cannot save our transformers.</summary>
    /// <param name="chain">The fitted chain (or a single transformer).</param>
    /// <param name="inputSchema">The schema of the chain's input rows (e.g. <c>data.Schema</c>).</param>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <exception cref="ArgumentNullException"><paramref name="chain"/> or <paramref name="inputSchema"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is blank, or the schema does not fit the chain.</exception>
    /// <exception cref="NotSupportedException">A part cannot be saved (the message names it).</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void SaveChain(ITransformer chain, DataViewSchema inputSchema, string path) => DiffusionChainArchive.Save(Context, chain, inputSchema, path);

    /// <summary>Loads a chain written by <see cref="SaveChain"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="inputSchema">The saved input schema.</param>
    /// <returns>The chain; dispose the likelihood and generate transformers in it when done (they own ONNX sessions).</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or blank.</exception>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a chain archive this library can read (the message names it).</exception>
    public TransformerChain<ITransformer> LoadChain(string path, out DataViewSchema inputSchema) => DiffusionChainArchive.Load(Context, path, out inputSchema);

    /// <summary>An estimator that finds a better sampling plan for <paramref name="model"/> at an NFE budget
    /// (<see cref="ScheduleOptimizationEstimator"/>): fit it on data rows to get the model with the chosen plan.</summary>
    /// <param name="model">The trained model.</param>
    /// <param name="options">The options (null for the defaults: NFE 9, every path, grid and solver).</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public ScheduleOptimizationEstimator OptimizeSchedule(DiffusionModel model, ScheduleOptimizationOptions? options = null) =>
        new(Context, model, options);
}
