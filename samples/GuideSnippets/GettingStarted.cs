using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace GuideSnippets.GettingStarted;

/// <summary>docs/getting-started.md's snippets, verbatim.</summary>
internal static class Pipeline
{
    public static void FiveLines()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromTextFile<Penguin>("samples/data/penguins.csv", new TextLoader.Options { HasHeader = true, Separators = [','], MissingRealsAsNaNs = true });
        var pipeline = mlContext.Transforms.Concatenate("Features", "BeakLength", "BeakDepth", "FlipperLength", "BodyMass")
            .Append(mlContext.Diffusion().Trainers.ScoreMatching(new ScoreMatchingOptions { Steps = 1000, MissingValueHandling = MissingValueHandling.DropRows, Seed = 1 }));
        DiffusionModel model = pipeline.Fit(data).LastTransformer;
        float[] rows = model.Generate(count: 1000, seed: 7);   // 1000 new penguins, 4 floats each, in grams and millimetres
    }
}

public sealed class Penguin
{
    [LoadColumn(2)] public float BeakLength { get; set; }   // empty cells load as NaN (MissingRealsAsNaNs), then DropRows drops them
    [LoadColumn(3)] public float BeakDepth { get; set; }
    [LoadColumn(4)] public float FlipperLength { get; set; }
    [LoadColumn(5)] public float BodyMass { get; set; }
}
