using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>
/// The <c>generate</c> command (issue #5): rows/s of <see cref="GenerateTransformer"/>'s streaming view for the shipped
/// penguins (d = 4) and mixture (d = 2) models, Heun with 10 steps (19 network evaluations), batch 256, 4096 and 65536, on
/// (a) the compiled sampler graph, (b) the host loop (C# Heun, network in ONNX Runtime), (c) the C# engine; then the
/// process's memory at checkpoints while streaming a large row count at batch 4096 (flat memory: the working set stops
/// growing once the stream runs).
/// </summary>
internal static class GenerateBenchmark
{
    private const int Steps = 10;

    public static void Run(string[] args)
    {
        long small = args.Length > 1 ? long.Parse(args[1]) : 1_000_000;
        long large = args.Length > 2 ? long.Parse(args[2]) : 3_000_000;
        double seconds = args.Length > 3 ? double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1.5;
        string root = FindRepositoryRoot();
        var context = new MLContext(seed: 1);
        Console.WriteLine($"cores={Environment.ProcessorCount}, load average {LoadAverage()}, Heun {Steps} steps = {2 * Steps - 1} NFE, " +
                          $"ONNX Runtime intra-op threads: default (ORT's choice); timing: whole batches for >= {seconds} s after one warm-up batch");

        // Memory first, while the process is fresh: one stream of `large` rows at batch 4096 (graph engine), with the
        // working set reported at checkpoints; flat memory means the figures stop growing once the stream is running.
        var penguins = DiffusionModelArchive.Load(Path.Combine(root, "models", "penguins", "model.zip"));
        Console.WriteLine();
        Console.WriteLine($"Memory while streaming {large} rows through mlContext.Diffusion().Generate (penguins, graph engine, batch 4096):");
        Console.WriteLine($"{"rows done",12} {"seconds",8} {"rows/s",10} {"WS MB",8} {"max WS MB",10} {"peak WS MB",11} {"heap MB",8} {"live MB",8} {"B/row",6} {"gen0/1/2",10}");
        Console.WriteLine("(WS: working set now; max WS: largest sampled every 4096 rows; heap: managed heap incl. garbage; live: after a full GC, which the " +
                          "checkpoint forces; B/row: managed bytes allocated per row so far)");
        var checkpoints = new SortedSet<long> { small / 10, small / 2, small, (small + large) / 2, large };
        var view = context.Diffusion().Generate(penguins, large, seed: 1, new GenerateOptions { Steps = Steps, BatchSize = 4096 });
        Drain(view, sampleMemory: true, checkpoints);
        Console.WriteLine();
        Console.WriteLine("rows/s, streaming view (latents drawn, generated column read), Heun 10 steps:");
        Console.WriteLine($"{"model",9} {"d",2} {"batch",6} {"(a) graph",10} {"(b) host",10} {"(c) C#",10} {"a/b",6} {"a/c",6}");
        foreach (string name in new[] { "penguins", "mixture" })
        {
            var model = name == "penguins" ? penguins : DiffusionModelArchive.Load(Path.Combine(root, "models", name, "model.zip"));
            foreach (int batch in new[] { 256, 4096, 65536 })
            {
                var rates = new double[3];
                var engines = new[] { GenerateEngine.OnnxGraph, GenerateEngine.OnnxHostLoop, GenerateEngine.CSharp };
                for (int e = 0; e < 3; e++)
                {
                    using var generator = new GenerateTransformer(model, new GenerateOptions { Steps = Steps, BatchSize = batch, Engine = engines[e] });
                    var (warm, _, _) = Drain(generator.GenerateRows(batch, seed: 2), sampleMemory: false);
                    long batches = Math.Max(1, (long)Math.Ceiling(seconds / warm));
                    long rows = batches * batch;
                    var (elapsed, _, _) = Drain(generator.GenerateRows(rows, seed: 3), sampleMemory: false);
                    rates[e] = rows / elapsed;
                }
                Console.WriteLine($"{name,9} {model.Dimension,2} {batch,6} {rates[0],10:F0} {rates[1],10:F0} {rates[2],10:F0} {rates[0] / rates[1],6:F2} {rates[0] / rates[2],6:F2}");
            }
        }
    }

    /// <summary>Reads every generated row; returns the seconds taken, the largest working set seen (sampled once per
    /// 4096 rows when asked) and a checksum that keeps the reads alive.</summary>
    private static (double Seconds, long MaxWorkingSet, double Checksum) Drain(IDataView view, bool sampleMemory, SortedSet<long>? checkpoints = null)
    {
        var column = view.Schema[GenerateOptions.DefaultOutputColumnName];
        VBuffer<float> buffer = default;
        double checksum = 0;
        long maxWorkingSet = 0, rows = 0;
        using var process = Process.GetCurrentProcess();
        long allocatedAtStart = GC.GetTotalAllocatedBytes(true);
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        var watch = Stopwatch.StartNew();
        using (var cursor = view.GetRowCursor([column]))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            while (cursor.MoveNext())
            {
                getter(ref buffer);
                checksum += buffer.GetValues()[0];
                rows++;
                if (sampleMemory && (rows & 4095) == 0)
                {
                    process.Refresh();
                    maxWorkingSet = Math.Max(maxWorkingSet, process.WorkingSet64);
                }
                if (checkpoints is not null && checkpoints.Contains(rows))
                {
                    process.Refresh();
                    double elapsed = watch.Elapsed.TotalSeconds;
                    long heap = GC.GetTotalMemory(false), live = GC.GetTotalMemory(true);
                    double perRow = (GC.GetTotalAllocatedBytes(true) - allocatedAtStart) / (double)rows;
                    Console.WriteLine($"{rows,12} {elapsed,8:F1} {rows / elapsed,10:F0} {process.WorkingSet64 / 1048576.0,8:F1} {maxWorkingSet / 1048576.0,10:F1} " +
                                      $"{process.PeakWorkingSet64 / 1048576.0,11:F1} {heap / 1048576.0,8:F1} {live / 1048576.0,8:F1} {perRow,6:F1} " +
                                      $"{GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2,-4}");
                }
            }
        }
        return (watch.Elapsed.TotalSeconds, maxWorkingSet, checksum);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLExtensions.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"MLExtensions.sln was not found above {AppContext.BaseDirectory}.");
    }
}
