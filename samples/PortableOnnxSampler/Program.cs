// The portable route: a plain ML.NET application runs an MLExtensions.Diffusion sampler graph (one ONNX graph holding
// the network unrolled over every solver step) with ML.NET's own ApplyOnnxModel, and saves/loads the pipeline with
// mlContext.Model.Save/Load. It references only Microsoft.ML, Microsoft.ML.OnnxTransformer and ONNX Runtime.
//
// ML.NET's OnnxTransformer runs the graph once per row, so this route is for portability, not throughput; the
// library's own transformers batch rows through ONNX Runtime.
//
//   save <sampler.onnx> <pipeline.zip>             build the pipeline around the graph and save it with ML.NET
//   run  <pipeline.zip> <noise.csv> <samples.csv>  load the pipeline and map each noise row to a generated row
//   demo <sampler.onnx> [rows] [seed]              both steps in this process, printing the generated rows
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

const string NoiseColumn = "noise";   // the sampler graph's input: standard-normal latents, one row per sample
const string SamplesColumn = "samples"; // the sampler graph's output: generated rows in data units

try
{
    return args switch
    {
        ["save", var onnx, var pipeline] => Save(onnx, pipeline),
        ["run", var pipeline, var noiseCsv, var samplesCsv] => Run(pipeline, noiseCsv, samplesCsv),
        ["demo", var onnx, ..] => Demo(onnx, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5,
                                        args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1),
        _ => Usage(),
    };
}
catch (Exception e) when (e is IOException or InvalidDataException or FormatException or InvalidOperationException or ArgumentException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

static int Usage()
{
    Console.Error.WriteLine("usage: save <sampler.onnx> <pipeline.zip> | run <pipeline.zip> <noise.csv> <samples.csv> | demo <sampler.onnx> [rows] [seed]");
    return 2;
}

static int Save(string onnxPath, string pipelinePath)
{
    var mlContext = new MLContext(seed: 0);
    int d = SamplerDimension(onnxPath);
    IDataView schemaOnly = NoiseView(mlContext, [], d);
    var pipeline = mlContext.Transforms.ApplyOnnxModel(
        outputColumnNames: [SamplesColumn], inputColumnNames: [NoiseColumn], modelFile: Path.GetFullPath(onnxPath),
        shapeDictionary: new Dictionary<string, int[]> { [NoiseColumn] = [1, d] }, gpuDeviceId: null, fallbackToCpu: false,
        recursionLimit: 100);
    ITransformer model = pipeline.Fit(schemaOnly);
    // Write next to the target, then move: a failed save never leaves a half-written pipeline behind.
    string temp = pipelinePath + ".tmp";
    mlContext.Model.Save(model, schemaOnly.Schema, temp);
    File.Move(temp, pipelinePath, overwrite: true);
    Console.WriteLine($"saved an ML.NET pipeline around {onnxPath} (d = {d}) to {pipelinePath}");
    return 0;
}

static int Run(string pipelinePath, string noiseCsv, string samplesCsv)
{
    var mlContext = new MLContext(seed: 0);
    ITransformer model = mlContext.Model.Load(pipelinePath, out DataViewSchema inputSchema);
    int d = inputSchema[NoiseColumn].Type is VectorDataViewType { Size: > 0 } v
        ? v.Size
        : throw new InvalidDataException($"'{pipelinePath}' has no fixed-size '{NoiseColumn}' input column.");
    float[][] noise = ReadCsv(noiseCsv, d);
    float[][] samples = Transform(mlContext, model, noise, d);
    string temp = samplesCsv + ".tmp";
    File.WriteAllLines(temp, samples.Select(row => string.Join(",", row.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))));
    File.Move(temp, samplesCsv, overwrite: true);
    Console.WriteLine($"generated {samples.Length} rows of {d} features into {samplesCsv}");
    return 0;
}

static int Demo(string onnxPath, int rows, int seed)
{
    if (rows < 1) throw new ArgumentException("rows must be at least 1.");
    string pipelinePath = Path.Combine(Path.GetTempPath(), $"portable-sampler-{Environment.ProcessId}.zip");
    Save(onnxPath, pipelinePath);
    var mlContext = new MLContext(seed: 0);
    ITransformer model = mlContext.Model.Load(pipelinePath, out DataViewSchema inputSchema);
    int d = ((VectorDataViewType)inputSchema[NoiseColumn].Type).Size;
    var random = new Random(seed);
    var noise = new float[rows][];
    for (int r = 0; r < rows; r++)
    {
        noise[r] = new float[d];
        for (int j = 0; j < d; j++)
        {
            // Box-Muller: standard-normal latents from a seeded source.
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            noise[r][j] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
    }
    foreach (float[] row in Transform(mlContext, model, noise, d))
        Console.WriteLine(string.Join("  ", row.Select(f => f.ToString("F4", CultureInfo.InvariantCulture))));
    File.Delete(pipelinePath);
    return 0;
}

static float[][] Transform(MLContext mlContext, ITransformer model, float[][] noise, int d)
{
    IDataView output = model.Transform(NoiseView(mlContext, noise, d));
    var result = new List<float[]>(noise.Length);
    using var cursor = output.GetRowCursor(output.Schema.Where(c => c.Name == SamplesColumn));
    var getter = cursor.GetGetter<VBuffer<float>>(output.Schema[SamplesColumn]);
    VBuffer<float> buffer = default;
    while (cursor.MoveNext())
    {
        getter(ref buffer);
        float[] row = buffer.DenseValues().ToArray();
        if (row.Length != d) throw new InvalidDataException($"The graph returned {row.Length} values per row, expected {d}.");
        result.Add(row);
    }
    return [.. result];
}

static IDataView NoiseView(MLContext mlContext, float[][] rows, int d)
{
    var schema = SchemaDefinition.Create(typeof(NoiseRow));
    schema[nameof(NoiseRow.noise)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
    return mlContext.Data.LoadFromEnumerable(rows.Select(r => new NoiseRow { noise = r }), schema);
}

static int SamplerDimension(string onnxPath)
{
    if (!File.Exists(onnxPath)) throw new FileNotFoundException($"ONNX sampler graph '{onnxPath}' does not exist.", onnxPath);
    try
    {
        using var session = new InferenceSession(onnxPath);
        if (!session.InputMetadata.TryGetValue(NoiseColumn, out var input) || input.Dimensions.Length != 2 || input.Dimensions[1] <= 0)
            throw new InvalidDataException($"'{onnxPath}' is not a sampler graph: it needs an input '{NoiseColumn}' of shape [N, d].");
        if (session.InputMetadata.Count != 1)
            throw new InvalidDataException($"'{onnxPath}' has {session.InputMetadata.Count} inputs; only deterministic sampler graphs (input '{NoiseColumn}' alone) run through this route.");
        return input.Dimensions[1];
    }
    catch (OnnxRuntimeException e)
    {
        throw new InvalidDataException($"ONNX Runtime could not load '{onnxPath}': {e.Message}", e);
    }
}

static float[][] ReadCsv(string path, int d)
{
    var rows = new List<float[]>();
    int line = 0;
    foreach (string text in File.ReadLines(path))
    {
        line++;
        if (string.IsNullOrWhiteSpace(text)) continue;
        string[] cells = text.Split(',');
        if (cells.Length != d) throw new InvalidDataException($"{path}, line {line}: {cells.Length} values, expected {d}.");
        var row = new float[d];
        for (int j = 0; j < d; j++)
        {
            if (!float.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out row[j]) || !float.IsFinite(row[j]))
                throw new InvalidDataException($"{path}, line {line}, value {j + 1}: '{cells[j]}' is not a finite number.");
        }
        rows.Add(row);
    }
    if (rows.Count == 0) throw new InvalidDataException($"{path} holds no noise rows.");
    return [.. rows];
}

/// <summary>One input row: a vector of standard-normal latents (its size is set at run time).</summary>
internal sealed class NoiseRow
{
#pragma warning disable IDE1006 // the column name must match the graph's input name
    public float[] noise { get; set; } = [];
#pragma warning restore IDE1006
}
