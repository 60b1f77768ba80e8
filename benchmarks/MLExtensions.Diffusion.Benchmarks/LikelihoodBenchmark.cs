using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.Likelihood;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>
/// Issue #12, likelihood at production speed: rows/s of today's engine (<see cref="LikelihoodEngine.CSharp"/>, Heun) against
/// the compiled engine (<see cref="LikelihoodEngine.Compiled"/>) in one run, interleaved rounds, best of each; the mean
/// and largest |NLL difference| between them; both against a fine reference (C# engine, 512 Heun steps) on a subset;
/// 1 vs 2 threads sharing one transformer; and the peak working set while a large row count streams through a pipeline.
/// </summary>
/// <remarks>Usage: <c>likelihood [rows=1024] [streamRows=1000000] [rounds=3] [tolerance=1e-4]</c>.</remarks>
internal static class LikelihoodBenchmark
{
    public static void Run(string[] args)
    {
        int rows = args.Length > 1 ? int.Parse(args[1]) : 1024;
        long streamRows = args.Length > 2 ? long.Parse(args[2]) : 1_000_000;
        int rounds = args.Length > 3 ? int.Parse(args[3]) : 3;
        double tolerance = args.Length > 4 ? double.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture) : 1e-4;
        var context = new MLContext(seed: 1);
        string models = ShippedData.ModelsFolder();
        Console.WriteLine($"cores={Environment.ProcessorCount}, load average {LoadAverage()}; {rows} rows per timed call, {rounds} interleaved rounds (best of each), compiled tolerance {tolerance:G2}");

        var penguins = DiffusionModel.Load(Path.Combine(models, "penguins", "model.zip"));
        Console.WriteLine();
        Console.WriteLine("(0) penguins: NLL error against the converged ODE solution (compiled RK4, 512 steps) vs network evaluations per row, 256 rows:");
        ErrorTable(penguins, Rows(penguins, models, "penguins", 256));
        Console.WriteLine();
        Console.WriteLine("(1) penguins (d = 4, width 128, depth 3), transformer.Score on rows given directly:");
        Compare(penguins, Rows(penguins, models, "penguins", rows), rounds, null,
            ("C# Heun 32 (today)", new LikelihoodTransformOptions { Engine = LikelihoodEngine.CSharp, Steps = 32 }),
            ("compiled Heun 32", new LikelihoodTransformOptions { Engine = LikelihoodEngine.Compiled, Steps = 32 }),
            ("C# Heun 128", new LikelihoodTransformOptions { Engine = LikelihoodEngine.CSharp, Steps = 128 }),
            ("compiled Heun 128", new LikelihoodTransformOptions { Engine = LikelihoodEngine.Compiled, Steps = 128 }),
            ($"compiled adaptive {tolerance:G1}", new LikelihoodTransformOptions { Engine = LikelihoodEngine.Compiled, AdaptiveTolerance = tolerance }));

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
        Compare(wide, wideRows, rounds, View(context, wideRows, 4),
            ("C# Heun 64 (today)", new LikelihoodTransformOptions { Engine = LikelihoodEngine.CSharp, Steps = 64 }),
            ("compiled Heun 64", new LikelihoodTransformOptions { Engine = LikelihoodEngine.Compiled, Steps = 64 }),
            ($"compiled adaptive {tolerance:G1}", new LikelihoodTransformOptions { Engine = LikelihoodEngine.Compiled, AdaptiveTolerance = tolerance }));

        Console.WriteLine();
        Console.WriteLine("(3) threads sharing one transformer (penguins, Score on rows/threads rows per thread), rows/s:");
        var data = Rows(penguins, models, "penguins", rows);
        using (var reference = new LikelihoodTransformer(penguins, new LikelihoodTransformOptions { Engine = LikelihoodEngine.CSharp, Steps = 32 }))
        using (var compiled = new LikelihoodTransformer(penguins, new LikelihoodTransformOptions { Engine = LikelihoodEngine.Compiled, Steps = 32 }))
        {
            // The engine alone with one worker per call (CompiledLikelihoodOptions.Threads = 1): the callers' threads are
            // then the only parallelism, which shows whether they serialise.
            var single = new CompiledLikelihood(penguins.Denoiser, penguins.Schedule, new CompiledLikelihoodOptions { Steps = 32, Threads = 1 });
            var z = Standardised(penguins, data);
            var best = new double[6];
            for (int round = 0; round < rounds; round++)
            {
                best[0] = Math.Max(best[0], Threaded(reference, data, 1));
                best[1] = Math.Max(best[1], Threaded(reference, data, 2));
                best[2] = Math.Max(best[2], Threaded(compiled, data, 1));
                best[3] = Math.Max(best[3], Threaded(compiled, data, 2));
                best[4] = Math.Max(best[4], ThreadedEngine(single, z, 1));
                best[5] = Math.Max(best[5], ThreadedEngine(single, z, 2));
            }
            Console.WriteLine($"{"engine",44} {"1 thread",10} {"2 threads",10} {"2/1",6}");
            Console.WriteLine($"{"C# Heun 32 (transformer)",44} {best[0],10:F0} {best[1],10:F0} {best[1] / best[0],6:F2}");
            Console.WriteLine($"{"compiled Heun 32 (transformer, all cores/call)",44} {best[2],10:F0} {best[3],10:F0} {best[3] / best[2],6:F2}");
            Console.WriteLine($"{"CompiledLikelihood Heun 32, 1 worker per call",44} {best[4],10:F0} {best[5],10:F0} {best[5] / best[4],6:F2}");
        }

        Console.WriteLine();
        Console.WriteLine($"(4) memory: {streamRows} rows generated lazily (mlContext.Diffusion().Generate, penguins) and scored by the compiled engine (Heun 32) through the pipeline (batch 4096):");
        Stream(context, penguins, streamRows);
        Console.WriteLine($"load average at the end: {LoadAverage()}");
    }

    /// <summary>Rows/s of each engine (interleaved rounds, best of each; ratio against the first, today's default), the
    /// |NLL difference| from the first, and each one's error against a fine reference (C# Heun 512) on 256 rows.</summary>
    private static void Compare(DiffusionModel model, float[] data, int rounds, IDataView? view, params (string Name, LikelihoodTransformOptions Options)[] engines)
    {
        var transformers = engines.Select(e => new LikelihoodTransformer(model, e.Options)).ToArray();
        try
        {
            var nll = transformers.Select(t => Score(t, data, view)).ToArray();
            var best = new double[transformers.Length];
            for (int round = 0; round < rounds; round++)
                for (int e = 0; e < transformers.Length; e++)
                {
                    var w = Stopwatch.StartNew();
                    Score(transformers[e], data, view);
                    best[e] = Math.Max(best[e], nll[e].Length / w.Elapsed.TotalSeconds);
                }
            int subset = Math.Min(256, nll[0].Length);
            using var fine = new LikelihoodTransformer(model, new LikelihoodTransformOptions { Engine = LikelihoodEngine.CSharp, Steps = 512 });
            var truth = fine.Score(data.AsSpan(0, subset * model.Dimension));
            Console.WriteLine($"{"engine",30} {"rows/s",8} {"ratio",6} {"mean|d| vs (a)",15} {"max|d| vs (a)",14} {$"mean|err| vs Heun 512 ({subset} rows)",34} {"max|err|",9}");
            for (int e = 0; e < transformers.Length; e++)
            {
                var diff = nll[0].Zip(nll[e], (p, q) => Math.Abs(p - q)).ToArray();
                var err = Enumerable.Range(0, subset).Select(r => Math.Abs(nll[e][r] - truth[r])).ToArray();
                Console.WriteLine($"{$"({(char)('a' + e)}) {engines[e].Name}",30} {best[e],8:F0} {best[e] / best[0],6:F2} {diff.Average(),15:E2} {diff.Max(),14:E2} {err.Average(),34:E2} {err.Max(),9:E2}");
            }
            Console.WriteLine($"(mean NLL of (a) {nll[0].Average():F4} nats over {nll[0].Length} rows)");
        }
        finally
        {
            foreach (var t in transformers) t.Dispose();
        }
    }

    private static void ErrorTable(DiffusionModel model, float[] data)
    {
        var z = Standardised(model, data);
        int rows = z.Length / model.Dimension;
        double[] Run(CompiledLikelihoodOptions options, out CompiledLikelihoodResult result, double[]? estimate = null)
        {
            var logP = new double[rows];
            result = new CompiledLikelihood(model.Denoiser, model.Schedule, options).Compute(z, logP, estimate ?? default, default);
            return logP;
        }
        var truth = Run(new CompiledLikelihoodOptions { Steps = 512, Integrator = LikelihoodIntegrator.RungeKutta4 }, out _);
        var check = Run(new CompiledLikelihoodOptions { Steps = 256, Integrator = LikelihoodIntegrator.RungeKutta4 }, out _);
        Console.WriteLine($"(RK4 256 vs 512 steps: mean |d| {truth.Zip(check, (a, b) => Math.Abs(a - b)).Average():E2})");
        Console.WriteLine($"{"integrator",22} {"evals/row",10} {"mean|err|",10} {"max|err|",10} {"mean est.",10} {"est>=|err|",11}");
        var cases = new List<(string, CompiledLikelihoodOptions)>();
        foreach (int n in new[] { 32, 64, 128, 256 }) cases.Add(($"Heun {n}", new CompiledLikelihoodOptions { Steps = n }));
        foreach (int n in new[] { 8, 16, 32, 64 }) cases.Add(($"RK4 {n}", new CompiledLikelihoodOptions { Steps = n, Integrator = LikelihoodIntegrator.RungeKutta4 }));
        foreach (double tol in new[] { 1e-2, 1e-3, 1e-4, 1e-5 }) cases.Add(($"adaptive {tol:G1}", new CompiledLikelihoodOptions { AdaptiveTolerance = tol }));
        foreach (var (name, options) in cases)
        {
            var estimate = new double[rows];
            var logP = Run(options, out var result, estimate);
            var err = logP.Zip(truth, (a, b) => Math.Abs(a - b)).ToArray();
            int bounded = Enumerable.Range(0, rows).Count(r => err[r] <= estimate[r]);
            Console.WriteLine($"{name,22} {(double)result.FunctionEvaluations / result.Chunks,10:F0} {err.Average(),10:E2} {err.Max(),10:E2} {estimate.Average(),10:E2} {$"{bounded}/{rows}",11}");
        }
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

    private static double ThreadedEngine(CompiledLikelihood engine, double[] z, int threads)
    {
        int d = engine.Dimension, per = z.Length / d / threads;
        var watch = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, threads).Select(t => Task.Factory.StartNew(() =>
        {
            var logP = new double[per];
            engine.Compute(z.AsSpan(t * per * d, per * d), logP, default, default);
        }, TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(tasks);
        return per * threads / watch.Elapsed.TotalSeconds;
    }

    private static void Stream(MLContext context, DiffusionModel model, long count)
    {
        var generated = context.Diffusion().Generate(model, count, seed: 1, new GenerateOptions { BatchSize = 4096, OutputColumnName = "Features" });
        using var nll = new LikelihoodTransformer(model, new LikelihoodTransformOptions { Engine = LikelihoodEngine.Compiled, Steps = 32, BatchSize = 4096 });
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
