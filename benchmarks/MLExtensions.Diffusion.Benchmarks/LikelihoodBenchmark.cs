using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.Likelihood;
using MLExtensions.Diffusion.MLNet;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>
/// Issue #12, likelihood at production speed: rows/s of today's engine (<see cref="LikelihoodEngine.CSharp"/>, Heun) against
/// the compiled engine (<see cref="LikelihoodEngine.Compiled"/>) in one run, interleaved rounds, best of each; the mean
/// and largest |NLL difference| between them; both against a fine reference (C# engine, 512 Heun steps) on a subset;
/// 1 vs 2 threads sharing one transformer; and the peak working set while a large row count streams through a pipeline.
/// </summary>
/// <remarks>Usage: <c>likelihood [rows=4096] [streamRows=1000000] [rounds=5] [tolerance=1e-4]</c>.</remarks>
internal static class LikelihoodBenchmark
{
    public static void Run(string[] args)
    {
        int rows = args.Length > 1 ? int.Parse(args[1]) : 4096;
        long streamRows = args.Length > 2 ? long.Parse(args[2]) : 1_000_000;
        int rounds = args.Length > 3 ? int.Parse(args[3]) : 5;
        double tolerance = args.Length > 4 ? double.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture) : 1e-4;
        var context = new MLContext(seed: 1);
        string models = ShippedData.ModelsFolder();
        Console.WriteLine($"cores={Environment.ProcessorCount}, load average {LoadAverage()}; {rows} rows per timed call, {rounds} interleaved rounds (best of each), compiled tolerance {tolerance:G2}");

        var penguins = DiffusionModelArchive.Load(Path.Combine(models, "penguins", "model.zip"));
        Console.WriteLine();
        Console.WriteLine("(1) penguins (d = 4, width 128, depth 3), transformer.Score on rows given directly:");
        Compare(penguins, Rows(penguins, models, "penguins", rows), 32, tolerance, rounds);

        // A default-architecture model (width 256, depth 3) trained briefly on the penguins rows: the throughput case of the
        // issue (64 steps, read through a pipeline).
        Console.WriteLine();
        var watch = Stopwatch.StartNew();
        var train = ShippedData.ReadCsv(Path.Combine(models, "penguins", "train.csv"), 4);
        var trainView = View(context, train, 4);
        var wide = context.Diffusion().Trainers.ScoreMatching(new ScoreMatchingOptions { Steps = 600, Seed = 3 }).Fit(trainView);
        Console.WriteLine($"(2) default-width model (d = 4, width {wide.Options.Width}, depth {wide.Options.Depth}; 600 training steps on penguins, {watch.Elapsed.TotalSeconds:F0} s), " +
                          "read through a pipeline (IDataView column, batch 256):");
        var wideRows = Rows(wide, models, "penguins", rows);
        Compare(wide, wideRows, 64, tolerance, rounds, View(context, wideRows, 4));

        Console.WriteLine();
        Console.WriteLine("(3) threads sharing one transformer (penguins, Score on rows/threads rows per thread), rows/s:");
        var data = Rows(penguins, models, "penguins", rows);
        using (var reference = new LikelihoodTransformer(penguins, new LikelihoodTransformOptions { Engine = LikelihoodEngine.CSharp, Steps = 32 }))
        using (var compiled = new LikelihoodTransformer(penguins, new LikelihoodTransformOptions { Engine = LikelihoodEngine.Compiled, Tolerance = tolerance }))
        {
            var best = new double[4];
            for (int round = 0; round < rounds; round++)
            {
                best[0] = Math.Max(best[0], Threaded(reference, data, 1));
                best[1] = Math.Max(best[1], Threaded(reference, data, 2));
                best[2] = Math.Max(best[2], Threaded(compiled, data, 1));
                best[3] = Math.Max(best[3], Threaded(compiled, data, 2));
            }
            Console.WriteLine($"{"engine",22} {"1 thread",10} {"2 threads",10} {"2/1",6}");
            Console.WriteLine($"{"C# Heun 32",22} {best[0],10:F0} {best[1],10:F0} {best[1] / best[0],6:F2}");
            Console.WriteLine($"{"compiled",22} {best[2],10:F0} {best[3],10:F0} {best[3] / best[2],6:F2}");
        }

        Console.WriteLine();
        Console.WriteLine($"(4) memory: {streamRows} rows generated lazily (mlContext.Diffusion().Generate, penguins) and scored by the compiled engine through the pipeline (batch 4096):");
        Stream(context, penguins, streamRows, tolerance);
        Console.WriteLine($"load average at the end: {LoadAverage()}");
    }

    private static void Compare(DiffusionModel model, float[] data, int steps, double tolerance, int rounds, IDataView? view = null)
    {
        var referenceOptions = new LikelihoodTransformOptions { Engine = LikelihoodEngine.CSharp, Steps = steps };
        var compiledOptions = new LikelihoodTransformOptions { Engine = LikelihoodEngine.Compiled, Tolerance = tolerance };
        using var reference = new LikelihoodTransformer(model, referenceOptions);
        using var compiled = new LikelihoodTransformer(model, compiledOptions);
        double[] a = Score(reference, data, view), b = Score(compiled, data, view);
        double bestA = 0, bestB = 0;
        for (int round = 0; round < rounds; round++)
        {
            var w = Stopwatch.StartNew();
            Score(reference, data, view);
            bestA = Math.Max(bestA, a.Length / w.Elapsed.TotalSeconds);
            w.Restart();
            Score(compiled, data, view);
            bestB = Math.Max(bestB, b.Length / w.Elapsed.TotalSeconds);
        }
        var diff = a.Zip(b, (p, q) => Math.Abs(p - q)).ToArray();
        Console.WriteLine($"{"engine",28} {"rows/s",10} {"ratio",7}");
        Console.WriteLine($"{$"C# Heun {steps} steps (today)",28} {bestA,10:F0} {1.0,7:F2}");
        Console.WriteLine($"{$"compiled (tol {tolerance:G2})",28} {bestB,10:F0} {bestB / bestA,7:F2}");
        Console.WriteLine($"|NLL compiled - today| over {a.Length} rows: mean {diff.Average():E2}, max {diff.Max():E2} nats (mean NLL {a.Average():F4})");

        // Both against a fine reference on a subset, with the compiled engine's own error estimate.
        int subset = Math.Min(256, a.Length);
        var head = data.AsSpan(0, subset * model.Dimension).ToArray();
        using var fine = new LikelihoodTransformer(model, new LikelihoodTransformOptions { Engine = LikelihoodEngine.CSharp, Steps = 512 });
        var truth = fine.Score(head);
        double errA = 0, errB = 0, maxB = 0;
        for (int r = 0; r < subset; r++)
        {
            errA += Math.Abs(a[r] - truth[r]);
            errB += Math.Abs(b[r] - truth[r]);
            maxB = Math.Max(maxB, Math.Abs(b[r] - truth[r]));
        }
        var engine = new CompiledLikelihood(model.Denoiser, model.Schedule, new CompiledLikelihoodOptions { Tolerance = tolerance });
        var z = Standardised(model, head);
        var logP = new double[subset];
        var estimate = new double[subset];
        var result = engine.Compute(z, logP, estimate, default);
        Console.WriteLine($"against C# Heun 512 steps on {subset} rows: today mean |error| {errA / subset:E2}; compiled mean {errB / subset:E2}, max {maxB:E2}, " +
                          $"its largest error estimate {result.MaxErrorEstimate:E2} (steps per chunk <= {result.MaxStepsPerChunk}, rejected {result.RejectedSteps}, " +
                          $"evaluations {result.FunctionEvaluations} over {result.Chunks} chunks)");
    }

    private static double[] Score(LikelihoodTransformer transformer, float[] data, IDataView? view)
    {
        if (view is null) return transformer.Score(data);
        var scored = transformer.Transform(view);
        return scored.GetColumn<float>(LikelihoodTransformOptions.DefaultOutputColumnName).Select(v => (double)v).ToArray();
    }

    private static double Threaded(LikelihoodTransformer transformer, float[] data, int threads)
    {
        int d = transformer.Dimension, per = data.Length / d / threads;
        var watch = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, threads).Select(t => Task.Factory.StartNew(() => transformer.Score(data.AsSpan(t * per * d, per * d)),
            TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(tasks);
        return per * threads / watch.Elapsed.TotalSeconds;
    }

    private static void Stream(MLContext context, DiffusionModel model, long count, double tolerance)
    {
        var generated = context.Diffusion().Generate(model, count, seed: 1, new GenerateOptions { BatchSize = 4096, OutputColumnName = "Features" });
        using var nll = new LikelihoodTransformer(model, new LikelihoodTransformOptions { Engine = LikelihoodEngine.Compiled, Tolerance = tolerance, BatchSize = 4096 });
        var scored = nll.Transform(generated);
        var column = scored.Schema[LikelihoodTransformOptions.DefaultOutputColumnName];
        using var process = Process.GetCurrentProcess();
        var checkpoints = new SortedSet<long>(Enumerable.Range(1, 5).Select(k => count * k / 5));
        Console.WriteLine($"{"rows done",12} {"seconds",8} {"rows/s",10} {"WS MB",8} {"peak WS MB",11} {"heap MB",8}");
        var watch = Stopwatch.StartNew();
        long done = 0;
        double sum = 0;
        using (var cursor = scored.GetRowCursor([column]))
        {
            var getter = cursor.GetGetter<float>(column);
            float value = 0;
            while (cursor.MoveNext())
            {
                getter(ref value);
                sum += value;
                done++;
                if (checkpoints.Contains(done))
                {
                    process.Refresh();
                    Console.WriteLine($"{done,12} {watch.Elapsed.TotalSeconds,8:F1} {done / watch.Elapsed.TotalSeconds,10:F0} {process.WorkingSet64 / 1e6,8:F0} " +
                                      $"{process.PeakWorkingSet64 / 1e6,11:F0} {GC.GetTotalMemory(false) / 1e6,8:F0}");
                }
            }
        }
        Console.WriteLine($"mean NLL of the stream {sum / done:F4}");
    }

    /// <summary>Rows in data units: the model's training rows, tiled with a small jitter to the requested count.</summary>
    private static float[] Rows(DiffusionModel model, string models, string name, int count)
    {
        int d = model.Dimension;
        var train = ShippedData.ReadCsv(Path.Combine(models, name, "train.csv"), d);
        var scale = model.FeatureScaler.Scale;
        var random = new Random(7);
        var rows = new float[count * d];
        int available = train.Length / d;
        for (int r = 0; r < count; r++)
            for (int j = 0; j < d; j++)
                rows[r * d + j] = train[(r % available) * d + j] + (r < available ? 0f : (float)(0.1 * scale[j] * (2 * random.NextDouble() - 1)));
        return rows;
    }

    private static double[] Standardised(DiffusionModel model, float[] rows)
    {
        var z = ShippedData.Standardise(rows, model.FeatureScaler.Mean, model.FeatureScaler.Scale);
        return z;
    }

    private sealed class VectorRow
    {
        [VectorType]
        public float[] Features { get; set; } = [];
    }

    private static IDataView View(MLContext context, float[] data, int d)
    {
        var schema = SchemaDefinition.Create(typeof(VectorRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
        return context.Data.LoadFromEnumerable(Enumerable.Range(0, data.Length / d).Select(r => new VectorRow { Features = data.AsSpan(r * d, d).ToArray() }).ToList(), schema);
    }

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "n/a"; }
    }
}
