// Trains the models shipped in models/: (a) penguins (the four body measurements of samples/data/penguins.csv) and
// (b) a 2-D mixture of three Gaussians. Per model it writes models/<name>/: model.zip (the library's format),
// sampler.onnx (the model's default sampling plan: Heun, 20 steps, data units), network.onnx (standardised units), train.csv, heldout.csv and MODEL_CARD.md
// with held-out metrics (exact W2, sliced W2, MMD^2) of the model, of a fitted multivariate Gaussian and of the data's
// own floor.
// Usage: dotnet run -c Release --project samples/TrainShippedModels -- --out models [--steps-scale 1.0]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Training;
using MLExtensions.Diffusion.Transport;

var c = CultureInfo.InvariantCulture;
string outRoot = "models";
double stepsScale = 1.0;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    if (args[i] == "--out") outRoot = args[i + 1];
    else if (args[i] == "--steps-scale") stepsScale = double.Parse(args[i + 1], c);
    else { Console.Error.WriteLine($"Unknown option {args[i]}. Options: --out DIR, --steps-scale X."); return 2; }
}
string command = "dotnet run -c Release --project samples/TrainShippedModels -- " + string.Join(' ', args);
string repo = FindRepositoryRoot();
const int Repeats = 5, Projections = 256, ProjectionSeed = 99, LargeSample = 2000;

// ---------------- (a) penguins ----------------
{
    string[] columns = ["beak_length_mm", "beak_depth_mm", "flipper_length_mm", "body_mass_g"];
    const int d = 4, splitSeed = 2024;
    var lines = File.ReadAllLines(Path.Combine(repo, "samples", "data", "penguins.csv"));
    var header = lines[0].Split(',');
    int[] index = columns.Select(name => Array.IndexOf(header, name)).ToArray();
    var all = new List<float[]>();
    foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
    {
        var fields = line.Split(',');
        all.Add(index.Select(k => fields[k] is "" or "NA" ? float.NaN : float.Parse(fields[k], c)).ToArray());
    }
    int missing = all.Count(r => r.Any(float.IsNaN));
    // The fixed seeded 80/20 split of every row; the missing rows fall where they fall.
    var order = Enumerable.Range(0, all.Count).ToArray();
    new Random(splitSeed).Shuffle(order);
    int trainCount = (int)Math.Round(0.8 * all.Count);
    var trainRows = order.Take(trainCount).Select(i => all[i]).ToList();
    var heldRows = order.Skip(trainCount).Select(i => all[i]).ToList();
    int heldMissing = heldRows.Count(r => r.Any(float.IsNaN));
    var held = heldRows.Where(r => !r.Any(float.IsNaN)).SelectMany(r => r).ToArray();
    var trainFinite = trainRows.Where(r => !r.Any(float.IsNaN)).SelectMany(r => r).ToArray();

    var options = new ScoreMatchingOptions
    {
        Width = 128, Depth = 3, Steps = Scaled(4000), WarmupSteps = 200, BatchSize = 128, LearningRate = 2e-3, EmaDecay = 0.999,
        Seed = 1, Threads = 2, MissingValueHandling = MissingValueHandling.DropRows, FeatureScaling = FeatureScaling.PerFeature,
    };
    var context = new MLContext(seed: 1);
    var view = context.Data.LoadFromEnumerable(trainRows.Select(r => new Row4 { Features = r }).ToList());
    Console.WriteLine($"penguins: {all.Count} rows ({missing} with missing measurements); split seed {splitSeed}: {trainRows.Count} train, {heldRows.Count} held-out.");
    var model = context.Diffusion().Trainers.ScoreMatching(options).Fit(view);
    Console.WriteLine($"penguins: trained on {model.Summary.Rows} rows (dropped {model.Summary.DroppedRows}) in {model.Summary.TrainingSeconds:F1} s.");
    var data = $"`samples/data/penguins.csv` (Palmer penguins, CC0): the four measurements {string.Join(", ", columns.Select(n => $"`{n}`"))}; " +
        $"{all.Count} rows, {missing} of them with all four missing. Split: a `System.Random({splitSeed})` shuffle of all {all.Count} rows, the first " +
        $"{trainCount} (80 %) for training, the other {heldRows.Count} held out. The trainer dropped {model.Summary.DroppedRows} training row(s) with missing " +
        $"values (`MissingValueHandling.DropRows`), leaving {model.Summary.Rows}; {heldMissing} held-out row(s) with missing values were removed, " +
        $"leaving {held.Length / d}. `train.csv` and `heldout.csv` hold the finite rows of each split.";
    Ship("penguins", model, options, columns, trainFinite, held, data, null);
}

// ---------------- (b) 2-D mixture of three Gaussians ----------------
{
    string[] columns = ["x", "y"];
    const int d = 2, trainCount = 4000, heldCount = 1000, dataSeed = 7;
    var law = GaussianMixtureDenoiser.Full(
        weights: [0.5, 0.3, 0.2],
        means: [-2.0, 0.0, 2.0, 1.0, 0.0, -2.5],
        covariances: [new double[,] { { 0.30, 0.10 }, { 0.10, 0.20 } },
                      new double[,] { { 0.15, -0.05 }, { -0.05, 0.25 } },
                      new double[,] { { 0.40, 0.00 }, { 0.00, 0.10 } }]);
    var random = new Random(dataSeed);
    var train = Draw(law, random, trainCount);
    var held = Draw(law, random, heldCount);
    var options = new ScoreMatchingOptions
    {
        Width = 128, Depth = 3, Steps = Scaled(4000), WarmupSteps = 200, BatchSize = 256, LearningRate = 2e-3, EmaDecay = 0.999,
        Seed = 1, Threads = 2, FeatureScaling = FeatureScaling.PerFeature,
    };
    var context = new MLContext(seed: 1);
    var view = context.Data.LoadFromEnumerable(Enumerable.Range(0, trainCount).Select(r => new Row2 { Features = train.AsSpan(r * d, d).ToArray() }).ToList());
    var model = context.Diffusion().Trainers.ScoreMatching(options).Fit(view);
    Console.WriteLine($"mixture: trained on {model.Summary.Rows} rows in {model.Summary.TrainingSeconds:F1} s.");
    var dataText = "A mixture of three 2-D Gaussians (weights 0.5, 0.3, 0.2; means (-2, 0), (2, 1), (0, -2.5); covariances " +
        "[[0.30, 0.10], [0.10, 0.20]], [[0.15, -0.05], [-0.05, 0.25]], [[0.40, 0], [0, 0.10]]), sampled by " +
        $"`GaussianMixtureDenoiser.SampleData` with `System.Random({dataSeed})`: the first {trainCount} rows for training, the next {heldCount} held out.";
    Ship("mixture", model, options, columns, train, held, dataText, (k, rows) => Draw(law, new Random(5000 + k), rows));
}
return 0;

int Scaled(int steps) => Math.Max(10, (int)Math.Round(steps * stepsScale));

float[] Draw(GaussianMixtureDenoiser law, Random random, int rows)
{
    var values = new double[rows * law.Dimension];
    law.SampleData(random, values);
    return values.Select(v => (float)v).ToArray();
}

void Ship(string name, DiffusionModel model, ScoreMatchingOptions options, string[] columns, float[] train, float[] held, string dataText,
    Func<int, int, float[]>? freshDraw)
{
    int d = columns.Length, n = held.Length / d;
    string folder = Path.Combine(outRoot, name);
    Directory.CreateDirectory(folder);
    model.Save(Path.Combine(folder, "model.zip"));
    var sampler = model.ExportSamplerOnnx();
    sampler.Model.Save(Path.Combine(folder, "sampler.onnx"));
    model.ExportNetworkOnnx().Save(Path.Combine(folder, "network.onnx"));
    WriteCsv(Path.Combine(folder, "train.csv"), columns, train);
    WriteCsv(Path.Combine(folder, "heldout.csv"), columns, held);

    // The ONNX sampler against the C# engine, same latents.
    var noise = StandardNormal.Sample(new Random(3), n * d).Select(v => (float)v).ToArray();
    var expected = model.GenerateFromNoise(noise);
    float[] onnx;
    using (var session = OnnxSessionFactory.CreateFromFile(Path.Combine(folder, "sampler.onnx")))
    using (var input = OrtValue.CreateTensorValueFromMemory(noise, [n, d]))
    using (var runOptions = new RunOptions())
    using (var results = session.Run(runOptions, [SamplerGraphCompiler.InputNoise], [input], [SamplerGraphCompiler.OutputSamples]))
        onnx = results[0].GetTensorDataAsSpan<float>().ToArray();
    double onnxError = 0;
    for (int i = 0; i < onnx.Length; i++) onnxError = Math.Max(onnxError, Math.Abs(onnx[i] - expected[i]) / model.FeatureScaler.Scale[i % d]);

    // Metrics: R draws of n rows each, against the n held-out rows.
    var baseline = GaussianBaseline.Fit(train, d);
    // Each source draws `rows` rows for repeat k; the training floor is a random subset (all training rows for the large sample).
    var sources = new List<(string Label, Func<int, int, float[]> Draw)>
    {
        ("diffusion model (Heun, 20 steps)", (k, rows) => model.Generate(rows, seed: 100 + k)),
        ("fitted Gaussian (full covariance, training split)", (k, rows) => baseline.Sample(rows, new Random(200 + k))),
    };
    if (freshDraw is not null) sources.Add(("floor: fresh draw from the true law", freshDraw));
    sources.Add(("floor: training rows", (k, rows) => Subset(train, d, Math.Min(rows, train.Length / d), new Random(300 + k))));
    var scaler = model.FeatureScaler;
    var results2 = new List<(string Label, Stat[] Standardised, Stat[] Data)>();
    foreach (var (label, draw) in sources)
    {
        var std = new List<double[]>();
        var raw = new List<double[]>();
        for (int k = 0; k < Repeats; k++)
        {
            var sample = draw(k, n);
            var large = draw(Repeats + k, LargeSample);
            raw.Add([.. Metrics(ToDouble(sample), ToDouble(held), d), SlicedWasserstein.W2(ToDouble(large), ToDouble(held), d, Projections, new Random(ProjectionSeed))]);
            std.Add([.. Metrics(Standardise(sample, scaler), Standardise(held, scaler), d),
                SlicedWasserstein.W2(Standardise(large, scaler), Standardise(held, scaler), d, Projections, new Random(ProjectionSeed))]);
        }
        results2.Add((label, Summarise(std), Summarise(raw)));
        Console.WriteLine($"{name}: {label}: sliced W2 (std units) {results2[^1].Standardised[1]}; with {LargeSample} source rows {results2[^1].Standardised[3]}");
    }

    var o = options;
    var s = model.Summary;
    var card = new StringBuilder();
    card.AppendLine(c, $"# Model card: {name}");
    card.AppendLine();
    card.AppendLine(c, $"A score-matching diffusion model trained with MLExtensions.Diffusion (`mlContext.Diffusion().Trainers.ScoreMatching`). Made by");
    card.AppendLine();
    card.AppendLine("```");
    card.AppendLine(command);
    card.AppendLine("```");
    card.AppendLine();
    card.AppendLine("## Files");
    card.AppendLine();
    card.AppendLine("| file | what |");
    card.AppendLine("| --- | --- |");
    card.AppendLine("| `model.zip` | the model (`mlContext.Diffusion().LoadModel(path)`; format `MLExtensions.Diffusion.Model` v" +
        $"{DiffusionModelArchive.FormatVersion}, which also carries the sampling plan and the two ONNX graphs) |");
    card.AppendLine(c, $"| `sampler.onnx` | the whole generation along the model's sampling plan ({model.SamplingPlan}) in one graph: input `noise` [N, {d}] (standard normal), output `samples` [N, {d}] in data units; equals `model.GenerateFromNoise(noise)` (largest difference over {n} rows: {onnxError:E1} of a feature's std) |");
    card.AppendLine(c, $"| `network.onnx` | the denoiser network: inputs `x` [N, {d}], `m` [N, 1], `sigma` [N, 1], output `x0` [N, {d}], all in standardised units z = (y - mean) / std |");
    card.AppendLine("| `train.csv`, `heldout.csv` | the training and held-out rows (finite rows only) |");
    card.AppendLine();
    card.AppendLine("## Data");
    card.AppendLine();
    card.AppendLine(dataText);
    card.AppendLine();
    card.AppendLine("Per-feature scaling (`FeatureScaling.PerFeature`): the diffusion lives in standardised units z = (y - mean) / std with the training split's moments:");
    card.AppendLine();
    card.AppendLine("| feature | mean | std |");
    card.AppendLine("| --- | --- | --- |");
    for (int j = 0; j < d; j++) card.AppendLine(c, $"| {columns[j]} | {scaler.Mean[j]:G6} | {scaler.Scale[j]:G6} |");
    card.AppendLine();
    card.AppendLine("## Training");
    card.AppendLine();
    card.AppendLine("| field | value |");
    card.AppendLine("| --- | --- |");
    void Row(string key, object value) => card.AppendLine(c, $"| {key} | {value} |");
    Row("schedule", $"{model.Schedule} (`ScheduleKind.{o.Schedule}`)");
    Row("parametrisation / loss", (o.Parametrisation == Parametrisation.Edm
        ? $"EDM preconditioning (Karras et al. 2022) with sigma_data = {o.SigmaData.ToString(c)}; denoising score matching, weight (sigma^2 + sigma_data^2) / (sigma sigma_data)^2 on the squared x0 error"
        : $"{o.Parametrisation} prediction, denoising score matching with unit weight on the network output")
        + $"; training noise levels ln(sigma/m) ~ N({o.LogNormalMean.ToString(c)}, {o.LogNormalStandardDeviation.ToString(c)}^2)");
    Row("network", $"MLP, width {o.Width}, depth {o.Depth}, residual {o.Residual}, {o.EmbeddingFrequencies} Fourier frequencies of c_noise, {s.ParameterCount} parameters");
    Row("steps", s.Steps);
    Row("batch size", o.BatchSize);
    Row("optimiser", $"AdamW, peak learning rate {o.LearningRate.ToString(c)}, {o.EffectiveWarmupSteps} warm-up steps, cosine decay to {o.FinalLearningRateFraction.ToString(c)} of the peak, gradient clip {o.GradientClipNorm.ToString(c)}, EMA {o.EmaDecay.ToString(c)}");
    Row("seed", s.Seed);
    Row("training rows", $"{s.Rows} (dropped {s.DroppedRows})");
    Row("final loss", s.FinalLoss.ToString("G5", c));
    Row("training time", $"{s.TrainingSeconds.ToString("F1", c)} s ({o.Threads} GEMM threads, {Environment.ProcessorCount} logical cores)");
    Row("sampler", $"the default sampling plan: {model.SamplingPlan} (Heun = EDM Algorithm 1; grid uniform in the angle atan(sigma/m), `DiffusionModel.SamplingTimes`)");
    card.AppendLine();
    card.AppendLine("## Held-out metrics");
    card.AppendLine();
    card.AppendLine($"Each row of the tables compares {n} rows from a source with the {n} held-out rows; mean +- standard deviation over {Repeats} draws. " +
        $"Exact W2: optimal assignment (`DiscreteOptimalTransport.W2`). Sliced W2: {Projections} random directions (`SlicedWasserstein.W2`, directions seeded {ProjectionSeed}). " +
        "MMD^2: unbiased, Gaussian kernel with the median-heuristic bandwidth (`MaximumMeanDiscrepancy.UnbiasedSquared`). " +
        "The fitted Gaussian is the training split's mean and full covariance (MathNet Cholesky). The floors show how far an exact sample of the same size already is. " +
        $"The last column is the sliced W2 from {LargeSample} source rows (all training rows for the training floor) to the held-out rows: the source's own sampling noise " +
        "then mostly drops out, leaving the held-out rows' (the same for every source); `ShippedModelTests` checks this comparison for the penguins model.");
    if (name == "penguins")
        card.AppendLine().AppendLine("In data units every distance is dominated by `body_mass_g` (std ~800 g against ~2 to 14 mm for the others), so the data-unit " +
            "rows mostly compare body-mass marginals; the standardised rows weigh the four features equally.");
    foreach (var (title, pick) in new (string, Func<(string, Stat[], Stat[]), Stat[]>)[] { ("standardised units", r => r.Item2), ("data units", r => r.Item3) })
    {
        card.AppendLine();
        card.AppendLine(c, $"### In {title}");
        card.AppendLine();
        card.AppendLine(c, $"| source | exact W2 ({n} rows) | sliced W2 ({n} rows) | MMD^2 ({n} rows) | sliced W2 ({LargeSample} rows) |");
        card.AppendLine("| --- | --- | --- | --- | --- |");
        foreach (var r in results2)
        {
            var m = pick(r);
            card.AppendLine(c, $"| {r.Label} | {m[0]} | {m[1]} | {m[2]} | {m[3]} |");
        }
    }
    card.AppendLine();
    card.AppendLine("## Intended use");
    card.AppendLine();
    card.AppendLine("A small demonstration model: generating synthetic rows that resemble the training data, and a fixed artefact for tests " +
        "(`tests/MLExtensions.Diffusion.Tests/MLNet/ShippedModelTests.cs`). It reproduces the training distribution only as well as the metrics above show.");
    File.WriteAllText(Path.Combine(folder, "MODEL_CARD.md"), card.ToString());
    long bytes = Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length);
    Console.WriteLine($"{name}: wrote {folder} ({bytes / 1024} KiB); ONNX vs C# largest difference {onnxError:E2} of a feature's std.");
}

double[] Metrics(double[] a, double[] b, int d) =>
[
    DiscreteOptimalTransport.W2(a, b, d),
    SlicedWasserstein.W2(a, b, d, Projections, new Random(ProjectionSeed)),
    MaximumMeanDiscrepancy.UnbiasedSquared(a, b, d),
];

Stat[] Summarise(List<double[]> runs) => Enumerable.Range(0, runs[0].Length).Select(j =>
{
    var v = runs.Select(r => r[j]).ToArray();
    double mean = v.Average();
    return new Stat(mean, Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)));
}).ToArray();

double[] ToDouble(float[] values) => values.Select(v => (double)v).ToArray();

double[] Standardise(float[] values, Standardizer scaler)
{
    int d = scaler.Dimension;
    var z = new double[values.Length];
    for (int i = 0; i < z.Length; i++) z[i] = (values[i] - scaler.Mean[i % d]) / scaler.Scale[i % d];
    return z;
}

float[] Subset(float[] rows, int d, int count, Random random)
{
    var order = Enumerable.Range(0, rows.Length / d).ToArray();
    random.Shuffle(order);
    return order.Take(count).SelectMany(r => rows.AsSpan(r * d, d).ToArray()).ToArray();
}

void WriteCsv(string path, string[] columns, float[] rows)
{
    var text = new StringBuilder();
    text.AppendLine(string.Join(',', columns));
    for (int r = 0; r < rows.Length / columns.Length; r++)
        text.AppendLine(string.Join(',', Enumerable.Range(0, columns.Length).Select(j => rows[r * columns.Length + j].ToString("R", c))));
    File.WriteAllText(path, text.ToString());
}

string FindRepositoryRoot()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLExtensions.sln"))) return dir.FullName;
    throw new DirectoryNotFoundException("Run from inside the repository: MLExtensions.sln was not found above the current folder.");
}

/// <summary>Mean +- standard deviation over repeated draws.</summary>
internal readonly record struct Stat(double Mean, double Sd)
{
    public override string ToString() => Mean.ToString("G4", CultureInfo.InvariantCulture) + " +- " + Sd.ToString("G2", CultureInfo.InvariantCulture);
}

/// <summary>The multivariate Gaussian baseline: mean and full sample covariance, sampled through its Cholesky factor.</summary>
internal sealed class GaussianBaseline(double[] mean, Matrix<double> lower)
{
    public static GaussianBaseline Fit(float[] rows, int d)
    {
        int n = rows.Length / d;
        var x = Matrix<double>.Build.Dense(n, d, (r, j) => rows[r * d + j]);
        var mean = Enumerable.Range(0, d).Select(j => x.Column(j).Average()).ToArray();
        var centred = Matrix<double>.Build.Dense(n, d, (r, j) => x[r, j] - mean[j]);
        var covariance = centred.TransposeThisAndMultiply(centred) / (n - 1);
        return new GaussianBaseline(mean, covariance.Cholesky().Factor);
    }

    public float[] Sample(int count, Random random)
    {
        int d = mean.Length;
        var z = StandardNormal.Sample(random, count * d);
        var result = new float[count * d];
        for (int r = 0; r < count; r++)
            for (int j = 0; j < d; j++)
            {
                double v = mean[j];
                for (int k = 0; k <= j; k++) v += lower[j, k] * z[r * d + k];
                result[r * d + j] = (float)v;
            }
        return result;
    }
}

internal sealed class Row4
{
    [VectorType(4)]
    public float[] Features { get; set; } = [];
}

internal sealed class Row2
{
    [VectorType(2)]
    public float[] Features { get; set; } = [];
}
