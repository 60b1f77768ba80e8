using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.ScheduleSearch;
using MLExtensions.Diffusion.Search;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>
/// The tuner goal of issue #9 on the real search: the sampling space of the shipped penguins model
/// (<see cref="SamplingSearchParameters"/> with the NFE fixed, so the loss cannot fall by spending more), loss = the
/// discretisation error; per seed, the best of 64 random-search trials and the number of Gaussian-process trials (at most
/// 64) to reach it; median over seeds. Usage: schedule-tuners [seeds=5] [nfe=7].
/// </summary>
internal static class ScheduleTunerStudy
{
    public static void Run(string[] args)
    {
        var c = CultureInfo.InvariantCulture;
        int seeds = args.Length > 1 ? int.Parse(args[1], c) : 5;
        int nfe = args.Length > 2 ? int.Parse(args[2], c) : 7;
        string folder = Path.Combine(ShippedData.ModelsFolder(), "penguins");
        var ml = new MLContext(seed: 1);
        var model = ml.Diffusion().LoadModel(Path.Combine(folder, "model.zip"));
        int d = model.Dimension;
        var rows = File.ReadAllLines(Path.Combine(folder, "train.csv")).Skip(1).Where(l => l.Length > 0)
            .Select(l => new Row { Features = l.Split(',').Take(d).Select(v => float.Parse(v, c)).ToArray() }).ToList();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
        var data = ml.Data.LoadFromEnumerable(rows, schema);
        // One runner for every search: the reference, path metric, fitted path and DP step errors are computed once.
        var runner = new DiffusionTrialRunner(ml, new DiffusionTrialRunnerOptions
        {
            TrainingData = data, ValidationData = data, Model = model, Loss = SearchLoss.DiscretisationRms, Rows = 1024, Seed = 1,
        });
        SearchSpace Space()
        {
            var full = SearchSpace.FromType<SamplingSearchParameters>();
            var space = new SearchSpace();
            foreach (var dimension in full.Dimensions.Where(x => x.Name != "Nfe")) space.Add(dimension);
            return space.AddChoice("Nfe", (long)nfe);
        }
        List<double> Drive(ITuner tuner, int trials)
        {
            var losses = new List<double>();
            for (int i = 0; i < trials; i++)
            {
                var settings = new TrialSettings(i, Parameter.Empty);
                var p = tuner.Propose(settings);
                var result = runner.RunAsync(settings with { Parameter = p }, CancellationToken.None).GetAwaiter().GetResult();
                tuner.Update(result);
                losses.Add(result.Loss);
            }
            return losses;
        }
        Console.WriteLine($"penguins sampling space at NFE {nfe}, loss = discretisation RMS on 1024 latents: random best-of-64 vs Gaussian-process trials to reach it");
        var reach = new List<int>();
        var clock = Stopwatch.StartNew();
        for (int seed = 0; seed < seeds; seed++)
        {
            double target = Drive(new RandomSearchTuner(Space(), seed), 64).Min();
            var gp = Drive(new GaussianProcessTuner(Space(), seed), 64);
            int n = gp.FindIndex(v => v <= target) is var k and >= 0 ? k + 1 : int.MaxValue;
            reach.Add(n);
            Console.WriteLine(string.Create(c, $"  seed {seed}: random best-of-64 {target:F4}  GP reaches it at trial {(n == int.MaxValue ? ">64" : n.ToString(c)),4}  GP best-of-64 {gp.Min():F4}  ({clock.Elapsed.TotalSeconds:F0} s)"));
        }
        reach.Sort();
        Console.WriteLine($"  median trials to reach: {(reach[reach.Count / 2] == int.MaxValue ? ">64" : reach[reach.Count / 2].ToString(c))}");
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
    }
}
