// docs/guide.md, "Fit a diffusion model to the numeric columns of an IDataView" (the guide's first snippet, verbatim).
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Training;

var mlContext = new MLContext(seed: 1);
IDataView data = mlContext.Data.LoadFromTextFile<Penguin>("samples/data/penguins.csv", new TextLoader.Options
{
    HasHeader = true,
    Separators = [','],
    MissingRealsAsNaNs = true, // empty cells load as NaN; without it they load as 0 and MissingValueHandling never sees them
});

var pipeline = mlContext.Transforms.Concatenate("Features",
        nameof(Penguin.BeakLength), nameof(Penguin.BeakDepth), nameof(Penguin.FlipperLength), nameof(Penguin.BodyMass))
    .Append(mlContext.Diffusion().Trainers.ScoreMatching(new ScoreMatchingOptions
    {
        Steps = 3000,
        Schedule = ScheduleKind.Cosine,
        MissingValueHandling = MissingValueHandling.DropRows, // default Error: a NaN names its row and column
        Seed = 1,
        Progress = new Progress<TrainingProgress>(p => Console.WriteLine($"step {p.Step}: loss {p.Loss:F4}")),
    }));
var model = pipeline.Fit(data);

public sealed class Penguin
{
    [LoadColumn(2)] public float BeakLength { get; set; }   // empty cells load as NaN (MissingRealsAsNaNs above)
    [LoadColumn(3)] public float BeakDepth { get; set; }
    [LoadColumn(4)] public float FlipperLength { get; set; }
    [LoadColumn(5)] public float BodyMass { get; set; }
}
