using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Samplers;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// A trained diffusion model as an ML.NET transformer: the <see cref="DiffusionModelParameters"/> it derives from (network,
/// scaling, schedule, sampling plan, options, summary; every generating, exporting and saving member) plus the ML.NET face
/// (<see cref="Transform"/>, <see cref="GetOutputSchema"/>, <see cref="GenerateDataView"/>). Made by
/// <see cref="ScoreMatchingEstimator.Fit"/>, <see cref="DiffusionCatalog.LoadModel"/> or <see cref="Load"/>.
/// </summary>
/// <remarks>
/// <para><see cref="Transform"/> appends one generated row per input row as
/// <see cref="ScoreMatchingOptions.GeneratedColumnName"/> (the <see cref="DiffusionModelParameters.SamplingPlan"/>;
/// deterministic), from the standard-normal latents in the column <see cref="ScoreMatchingOptions.NoiseColumnName"/> when
/// the input has it, else from latents seeded by <see cref="ScoreMatchingOptions.GenerationSeed"/>. It is not a
/// row-to-row mapper: rows are generated in batches when the first cursor asks for the column.</para>
/// <para>ML.NET's own model persistence (<c>mlContext.Model.Save</c>) is reserved to ML.NET's friend assemblies, so
/// <see cref="ICanSaveModel.Save"/> throws; use <see cref="DiffusionModelParameters.Save(string)"/> and
/// <see cref="DiffusionCatalog.LoadModel"/> (format: <see cref="DiffusionModelArchive"/>). A production app that only samples
/// or scores can load the same file without ML.NET with <see cref="DiffusionModelParameters.Load"/>.</para>
/// </remarks>
/// <example>
/// <code>
/// var model = mlContext.Diffusion().Trainers.ScoreMatching(new ScoreMatchingOptions { Steps = 3000, Seed = 1 }).Fit(data);
/// float[] rows = model.Generate(count: 500, seed: 7);   // 500 x model.Dimension, row-major
/// model.Save("model.zip");
/// var again = mlContext.Diffusion().LoadModel("model.zip");
/// </code>
/// </example>
public sealed class DiffusionModel : DiffusionModelParameters, ITransformer
{
    internal DiffusionModel(DiffusionModelParameters parameters) : base(parameters)
    {
    }

    internal DiffusionModel(Training.NeuralDenoiser denoiser, Schedules.NoiseSchedule schedule, Training.Standardizer featureScaler, ScoreMatchingOptions options,
        TrainingSummary summary, IReadOnlyDictionary<string, byte[]>? additionalEntries = null, SamplingPlan? plan = null, Features.FeatureEncoding? encoding = null)
        : base(denoiser, schedule, featureScaler, options, summary, additionalEntries, plan, encoding)
    {
    }

    /// <summary>Reads a model written by <see cref="DiffusionModelParameters.Save(string)"/> as an ML.NET transformer
    /// (<see cref="DiffusionModelParameters.Load"/> without the ML.NET face).</summary>
    /// <param name="path">The model zip.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or blank.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a model archive, is corrupt or truncated, or its parts disagree.</exception>
    public static new DiffusionModel Load(string path) => new(DiffusionModelArchive.Load(path));

    /// <summary>A model that samples along <paramref name="plan"/> and is otherwise this one (see
    /// <see cref="DiffusionModelParameters.WithSamplingPlan"/>).</summary>
    /// <param name="plan">The plan.</param>
    /// <returns>The new model; this one is unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="plan"/> is null.</exception>
    /// <exception cref="ArgumentException">The plan starts at a noise level the network cannot follow.</exception>
    public new DiffusionModel WithSamplingPlan(SamplingPlan plan) => new(base.WithSamplingPlan(plan));

    /// <summary>Always false: rows are generated in batches, not mapped one by one.</summary>
    public bool IsRowToRowMapper => false;

    /// <summary>Generates rows as an <see cref="IDataView"/> with one column of d floats.</summary>
    /// <param name="count">Rows to generate, at least 1.</param>
    /// <param name="seed">Seed of the latents (the seed contract of <see cref="DiffusionModelParameters.Generate"/>).</param>
    /// <param name="sampler">The solver (null: the plan's).</param>
    /// <param name="steps">Solver steps on the default grid of the plan's schedule; null: the plan's grid.</param>
    /// <param name="columnName">The column's name (default "Features").</param>
    /// <returns>A view whose rows are <see cref="DiffusionModelParameters.Generate"/>'s rows; they are computed when the view is created.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="steps"/> is not positive, or
    /// <paramref name="count"/> is above <see cref="DiffusionModelParameters.MaximumGenerateCount"/> (the rows are held in one array; stream larger
    /// counts with <c>mlContext.Diffusion().Generate(model, count, seed)</c>).</exception>
    /// <exception cref="ArgumentException"><paramref name="columnName"/> is null or blank.</exception>
    public IDataView GenerateDataView(int count, int seed, ISampler? sampler = null, int? steps = null, string columnName = ScoreMatchingOptions.DefaultFeatureColumnName)
    {
        CheckCount(count);
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
        builder.AddColumn(OptionsView.GeneratedColumnName, new VectorDataViewType(NumberDataViewType.Single, Dimension));
        return builder.ToSchema();
    }

    /// <summary>Not supported: the model generates in batches (<see cref="IsRowToRowMapper"/> is false).</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw new NotSupportedException("DiffusionModel generates rows in batches and is not a row-to-row mapper; use Transform or Generate.");

    /// <summary>Appends the generated column, one generated row per input row (the <see cref="SamplingPlan"/>: by default Heun,
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
        string noiseColumn = OptionsView.NoiseColumnName;
        int seed = OptionsView.GenerationSeed;
        return new GeneratedDataView(input, OptionsView.GeneratedColumnName, Dimension, input.GetRowCount(), () =>
        {
            if (!hasNoise)
            {
                long rows = input.GetRowCount() ?? CountRows(input);
                return rows == 0 ? [] : Generate(checked((int)rows), seed);
            }
            var noise = FeatureColumnReader.Read(input, noiseColumn, Dimension, dropNonFinite: false, out _, CancellationToken.None);
            return noise.Length == 0 ? [] : GenerateFromNoise(noise);
        });
    }

    /// <summary>Not supported: ML.NET keeps its model format to its friend assemblies. Use <see cref="DiffusionModelParameters.Save(string)"/>.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException(
            "DiffusionModel cannot be saved through mlContext.Model.Save (ML.NET keeps its model format to its own assemblies). " +
            "Use DiffusionModel.Save(path) and mlContext.Diffusion().LoadModel(path), or save a whole fitted chain with mlContext.Diffusion().SaveChain.");

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
        if (schema.GetColumnOrNull(OptionsView.NoiseColumnName) is null) return false;
        int size = FeatureColumnReader.RequireVectorColumn(schema, OptionsView.NoiseColumnName, paramName);
        if (size != Dimension)
            throw new ArgumentException($"The noise column '{OptionsView.NoiseColumnName}' has {size} values per row, but the model's dimension is {Dimension}.", paramName);
        return true;
    }
}
