using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.ScheduleSearch;
using MLExtensions.Diffusion.Search;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>The arguments of the built-in <see cref="SamplingPlanWorkload"/>, passed as JSON in
/// <see cref="ClusterSearchRequest.Arguments"/>: the search that <c>mldiffusion search</c> runs.</summary>
public sealed record SamplingPlanArguments
{
    /// <summary>The model zip whose sampling plan is searched (a path every silo can read).</summary>
    public required string Model { get; init; }

    /// <summary>A CSV of rows (a header, then numbers): the first half validates, the second half tests.</summary>
    public required string Data { get; init; }

    /// <summary>The loss that selects.</summary>
    public SearchLoss Loss { get; init; } = SearchLoss.DiscretisationRms;

    /// <summary>The runner's seed.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Rows generated per trial (at least 2).</summary>
    public int Rows { get; init; } = 2048;

    /// <summary>Steps of the converged reference run the metrics compare with (at least 100).</summary>
    public int ReferenceSteps { get; init; } = 1000;

    /// <summary>The JSON text.</summary>
    /// <returns>The JSON.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, SearchJson.Options);

    /// <summary>Reads the JSON text.</summary>
    /// <param name="json">The text.</param>
    /// <returns>The arguments.</returns>
    /// <exception cref="ArgumentException">The text is missing or not these arguments.</exception>
    public static SamplingPlanArguments Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) throw new ArgumentException("The sampling-plan workload needs its arguments (model and data paths) as JSON.", nameof(json));
        try
        {
            return JsonSerializer.Deserialize<SamplingPlanArguments>(json, SearchJson.Options) ?? throw new ArgumentException("The arguments JSON is null.", nameof(json));
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"The sampling-plan arguments are not valid JSON: {e.Message}", nameof(json), e);
        }
    }
}

/// <summary>The built-in workload "sampling-plan": searches the sampling plan (<see cref="SamplingSearchParameters"/>) of a
/// trained model with <see cref="DiffusionTrialRunner"/>, as <c>mldiffusion search</c> does on one machine.</summary>
public sealed class SamplingPlanWorkload : ISearchWorkload
{
    /// <summary>The workload's name, "sampling-plan".</summary>
    public const string Name = "sampling-plan";

    /// <inheritdoc/>
    public SearchSpace CreateSpace(string? arguments)
    {
        SamplingPlanArguments.Parse(arguments);
        return SearchSpace.FromType<SamplingSearchParameters>();
    }

    /// <inheritdoc/>
    public ITrialRunner CreateRunner(string? arguments, IServiceProvider services)
    {
        var args = SamplingPlanArguments.Parse(arguments);
        return CreateRunner(args, services.GetService<ModelCache>() ?? new ModelCache());
    }

    /// <summary>The runner of these arguments on this machine (the local reference of a cluster search).</summary>
    /// <param name="arguments">The arguments.</param>
    /// <returns>The runner.</returns>
    /// <exception cref="ArgumentException">The model or data cannot be read (the message names the file).</exception>
    public static DiffusionTrialRunner CreateRunner(SamplingPlanArguments arguments) => CreateRunner(arguments, new ModelCache());

    private static DiffusionTrialRunner CreateRunner(SamplingPlanArguments args, ModelCache models)
    {
        var ml = new MLContext(args.Seed);
        var model = models.Get(args.Model);
        int d = model.Dimension;
        var values = NumericCsv.Read(args.Data, d);
        int rows = values.Length / d, half = rows / 2;
        if (half < 2) throw new ArgumentException($"'{args.Data}' has {rows} rows; the search needs at least 4.", nameof(args));
        return new DiffusionTrialRunner(ml, new DiffusionTrialRunnerOptions
        {
            TrainingData = ToDataView(ml, values, d), ValidationData = ToDataView(ml, values[..(half * d)], d),
            TestData = ToDataView(ml, values[(half * d)..], d), Model = model, Loss = args.Loss, Seed = args.Seed, Rows = args.Rows, ReferenceSteps = args.ReferenceSteps,
        });
    }

    private static IDataView ToDataView(MLContext ml, float[] values, int d)
    {
        var rows = Enumerable.Range(0, values.Length / d).Select(r => new FeatureRow { Features = values.AsSpan(r * d, d).ToArray() }).ToList();
        var schema = SchemaDefinition.Create(typeof(FeatureRow));
        schema[nameof(FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    private sealed class FeatureRow
    {
        public float[] Features { get; set; } = [];
    }
}

/// <summary>Reads a CSV of numbers with a header: all columns, which must be <c>width</c>.</summary>
internal static class NumericCsv
{
    public static float[] Read(string path, int width)
    {
        if (!File.Exists(path)) throw new ArgumentException($"The data file '{path}' does not exist.", nameof(path));
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        if (lines.Length < 2) throw new ArgumentException($"'{path}' has no data rows.", nameof(path));
        int columns = lines[0].Split(',').Length;
        if (columns != width) throw new ArgumentException($"'{path}' has {columns} columns but the model has {width} features.", nameof(path));
        var values = new float[(lines.Length - 1) * width];
        for (int r = 1; r < lines.Length; r++)
        {
            var cells = lines[r].Split(',');
            if (cells.Length != width) throw new ArgumentException($"'{path}' line {r + 1} has {cells.Length} cells, not {width}.", nameof(path));
            for (int j = 0; j < width; j++)
                if (!float.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out values[(r - 1) * width + j]) || !float.IsFinite(values[(r - 1) * width + j]))
                    throw new ArgumentException($"'{path}' line {r + 1} column {j + 1} is not a finite number: '{cells[j]}'.", nameof(path));
        }
        return values;
    }
}

/// <summary>Models loaded once per silo, by full path.</summary>
internal sealed class ModelCache
{
    private readonly ConcurrentDictionary<string, Lazy<DiffusionModel>> _models = new(StringComparer.Ordinal);

    public DiffusionModel Get(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new ArgumentException($"The model file '{path}' does not exist (on this silo: every silo must reach it).", nameof(path));
        var lazy = _models.GetOrAdd(full, p => new Lazy<DiffusionModel>(() => new MLContext(0).Diffusion().LoadModel(p)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _models.TryRemove(full, out _);
            throw;
        }
    }
}
