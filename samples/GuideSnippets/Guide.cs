using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;
using MLExtensions.Diffusion.Likelihood;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Schedules;
using Microsoft.ML.SearchSpace;
using MLExtensions.Diffusion.Search;
using MLExtensions.Diffusion.Training;

namespace GuideSnippets;

/// <summary>docs/guide.md's snippets 2-14, each verbatim in a method whose parameters declare what it uses.</summary>
internal static class Guide
{
    public static void Snippet2(MLContext mlContext)
    {
        // Features: [species one-hot (3 slots), beak length, beak depth, flipper length, body mass, rain, ice fraction]
        var pipeline = mlContext.Transforms.Categorical.OneHotEncoding("SpeciesCode", nameof(Record.Species))  // text or key column
            .Append(mlContext.Transforms.Concatenate("Features", "SpeciesCode", nameof(Record.BeakLength), nameof(Record.BeakDepth),
                nameof(Record.FlipperLength), nameof(Record.BodyMass), nameof(Record.Rain), nameof(Record.IceFraction)))
            .Append(mlContext.Diffusion().Trainers.ScoreMatching(new ScoreMatchingOptions
            {
                CategoricalFeatures = [new CategoricalFeatureRange(Start: 0, Count: 3)],   // decoded by argmax: exactly one 1
                IntegerFeatures = [5],                                                       // flipper length, rounded on output
                FeatureBounds =
                [
                    new FeatureBound(7, Lower: 0),              // rain >= 0 (days without rain come back as exact zeros)
                    new FeatureBound(8, Lower: 0, Upper: 1),    // a fraction: logit / sigmoid
                ],
                InferBounds = false,            // true: a feature with minimum >= 0 and >= 5 % exact zeros gets Lower = 0
                InferIntegerFeatures = false,   // true: a feature whose training values are all integral is rounded on output
                Seed = 1,
            }));
    }

    public static void Snippet3(MLContext mlContext, IDataView data)
    {
        var options = new ScoreMatchingOptions
        {
            Steps = 3000,
            ValidationFraction = 0.2,     // 20 % of the rows held out (seeded by ValidationSeed)
            EarlyStoppingPatience = 5,    // stop after 5 evaluations (every ReportInterval = 100 steps) without a new best
            Progress = new Progress<TrainingProgress>(p => Console.WriteLine($"step {p.Step}: loss {p.Loss:F4}, held-out {p.ValidationLoss:F4}")),
        };
        var model = mlContext.Diffusion().Trainers.ScoreMatching(options).Fit(data);
        ValidationSummary v = model.Summary.Validation!;   // Rows, BestStep, BestLoss, LastLoss, StepsTaken, StoppedEarly
    }

    public static void Snippet4(TransformerChain<DiffusionModel> model, float[] myStandardNormalLatents)
    {
        DiffusionModel diffusion = model.LastTransformer;
        float[] rows = diffusion.Generate(count: 1000, seed: 7);                 // row-major, d floats per row
        IDataView generated = diffusion.GenerateDataView(1000, seed: 7);         // a "Features" vector column
        float[] fromNoise = diffusion.GenerateFromNoise(myStandardNormalLatents); // one row per latent row
    }

    public static void Snippet5(DiffusionModel model)
    {
        var ot = new GaussianOtSchedule(dataStd: 1.0);
        var plan = SamplingPlan.Create(ot, SamplingGridKind.UniformTime, GenerateSamplerKind.Heun, nfe: 9, topLevel: 20);
        DiffusionModel tuned = model.WithSamplingPlan(plan);          // plan.Nfe == 9 network evaluations per row
        tuned.Save("tuned.zip");                                      // the plan travels with the weights
        var (mean, sd) = tuned.StartLaw();                            // the Gaussian the plan starts from (z units)
    }

    public static void Snippet6(MLContext mlContext, DiffusionModel model, IDataView trainingRows)
    {
        var result = mlContext.Diffusion()
            .OptimizeSchedule(model, new ScheduleOptimizationOptions { Nfe = 5, Seed = 1 })
            .Optimize(trainingRows);
        Console.WriteLine(result.Report);            // every candidate, the choice, error before/after, c2, W2 bound, efficiency
        File.WriteAllText("report.json", result.Report.ToJson());
        result.Model.Save("model-nfe5.zip");
    }

    public static void Snippet7(MLContext mlContext, DiffusionModel diffusion)
    {
        SamplerGraph graph = diffusion.ExportSamplerOnnx();                 // the model's plan; or ExportSamplerOnnx(new HeunSampler(), steps: 8)
        graph.Model.Save("sampler.onnx");                                   // noise [N, d] -> samples [N, d], data units
        var pipeline = mlContext.Transforms.ApplyOnnxModel(                 // a Single[d] "noise" column in, "samples" out
            outputColumnNames: ["samples"], inputColumnNames: ["noise"], modelFile: "sampler.onnx",
            shapeDictionary: new Dictionary<string, int[]> { ["noise"] = [1, graph.Dimension] }, gpuDeviceId: null, fallbackToCpu: false);
    }

    public static void Snippet8(MLContext mlContext, IEstimator<ITransformer> pipeline, IDataView data)
    {
        ITransformer chain = pipeline.Fit(data);
        mlContext.Diffusion().SaveChain(chain, data.Schema, "chain.zip");
        TransformerChain<ITransformer> loaded = mlContext.Diffusion().LoadChain("chain.zip", out DataViewSchema inputSchema);
        IDataView scored = loaded.Transform(data);   // the same outputs; dispose the NLL/generate transformers when done
    }

    public static void Snippet9(MLContext mlContext, IDataView data, float threshold)
    {
        DiffusionModel model = mlContext.Diffusion().LoadModel("models/penguins/model.zip");
        var pipeline = mlContext.Transforms.Concatenate("Features", "BeakLength", "BeakDepth", "FlipperLength", "BodyMass")
            .Append(mlContext.Diffusion().NegativeLogLikelihood(model, new LikelihoodTransformOptions
            {
                Divergence = DivergenceEstimator.Exact,   // d Jacobian-vector products per row; Hutchinson (HutchinsonProbes, Seed) for larger d
                Steps = 64,                               // Heun on a log-SNR grid
                Engine = LikelihoodEngine.Compiled,       // default; CSharp or Onnx run the network's Jacobian-vector products
            }));
        IDataView scored = pipeline.Fit(data).Transform(data);
        IDataView suspicious = mlContext.Data.FilterRowsByColumn(scored, "NLL", lowerBound: threshold);
    }

    public static void Snippet10(MLContext mlContext, IEstimator<ITransformer> pipeline, IDataView data, Penguin penguin)
    {
        using var engine = mlContext.Model.CreatePredictionEngine<Penguin, NllOutput>(pipeline.Fit(data));
        float nll = engine.Predict(penguin).NLL;   // public sealed class NllOutput { public float NLL { get; set; } }
    }

    public static void Snippet11(MLContext mlContext, DiffusionModel model)
    {
        var options = new GenerateOptions { Steps = 10, BatchSize = 4096 };   // Heun on model.SamplingTimes(10)
        IDataView rows = mlContext.Diffusion().Generate(model, count: 10_000_000, seed: 1, options);
        using var cursor = rows.GetRowCursor(rows.Schema);                     // generated batch by batch as it moves
    }

    public static void Snippet12(MLContext mlContext, DiffusionModel model, IDataView latents)
    {
        using var generator = mlContext.Diffusion().Generate(model, new GenerateOptions
        {
            InputColumnName = "Noise",                    // or a seed column, e.g. "Seed"
            Sampler = GenerateSamplerKind.Heun,           // Euler, Ddim, DpmSolverPlusPlus2M
            Steps = 10,
            Engine = GenerateEngine.OnnxGraph,            // OnnxHostLoop or CSharp
            SessionSettings = new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Auto },
        });
        IDataView generated = generator.Transform(latents);
    }

    public static void Snippet13(MLContext mlContext, DiffusionModel model)
    {
        var options = new GenerateOptions { Steps = 10, AttachPathThermodynamics = true, AttachNll = true };
        IDataView scored = mlContext.Diffusion().Generate(model, count: 1000, seed: 7, options);
        float[] nll = scored.GetColumn<float>(GenerateOptions.NllColumnName).ToArray();
        float[] action = scored.GetColumn<float>(GenerateOptions.KineticActionColumnName).ToArray();
    }

    public class SamplerSearch
    {
        [Range(4, 64, 16, true)] public int Steps { get; set; }                 // integer, log scale, init 16
        [Range(1e-4, 1e-1, 1e-3, true)] public double LearningRate { get; set; }
        [Choice(new object[] { "Heun", "Euler", "Ddim" })] public string Sampler { get; set; } = "";
    }
    public static async Task Snippet14(MLContext mlContext, ITrialRunner myRunner, CancellationToken cancellationToken)
    {
        var space = SearchSpace.FromType<SamplerSearch>();
        SearchResult result = await new SearchExperiment()
            .SetSearchSpace(space)
            .SetTuner((s, seed) => new GaussianProcessTuner(s, seed))   // or RandomSearchTuner, GridSearchTuner
            .SetTrialRunner(myRunner)                                    // ITrialRunner: Parameter -> TrialResult (Loss, Metric, Metrics["Cost"])
            .SetMaxTrials(40).SetMaxWallTime(TimeSpan.FromMinutes(10)).SetSeed(1)
            .SetLog(mlContext)                                           // Info lines on mlContext.Log (or SetLog(Console.WriteLine))
            .RunAsync(cancellationToken);
        SamplerSearch best = result.BestTrial!.TrialSettings.Parameter.To<SamplerSearch>();
        result.Save("search.json");                                      // atomic write (temp file + move)
        var front = ParetoFront.Compute(result.Trials, "Cost");          // non-dominated (cost, loss), by cost
    }
}

/// <summary>The record of snippet 2.</summary>
internal sealed class Record
{
    public string Species { get; set; } = "";
    public float BeakLength { get; set; }
    public float BeakDepth { get; set; }
    public float FlipperLength { get; set; }
    public float BodyMass { get; set; }
    public float Rain { get; set; }
    public float IceFraction { get; set; }
}

/// <summary>The output row of snippet 10.</summary>
public sealed class NllOutput { public float NLL { get; set; } }
