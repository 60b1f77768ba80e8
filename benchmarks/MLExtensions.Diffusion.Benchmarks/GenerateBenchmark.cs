using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>
/// The <c>generate</c> command (issue #5). First the process's memory at ten checkpoints while one stream of 10 million
/// rows (penguins, graph engine, batch 4096) is read (flat memory: the figures stop growing once the stream runs); then
/// rows/s of <see cref="GenerateTransformer"/>'s streaming view for the shipped penguins (d = 4) and mixture (d = 2)
/// models, Heun with 10 steps (19 network evaluations), batch 256, 4096 and 65536, on (a) the compiled sampler graph,
/// (b) the host loop (C# Heun, network in ONNX Runtime), (c) the C# engine, timed in interleaved rounds so that load
/// changes on a shared machine hit all three engines alike; the ratios are taken within a round.
/// </summary>
internal static class GenerateBenchmark
{
    private const int Steps = 10;

    public static void Run(string[] args)
    {
                long large = args.Length > 1 ? long.Parse(args[1]) : 10_000_000;
        double seconds = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 0.4;
        int threads = args.Length > 3 ? int.Parse(args[3]) : 0;
        var session = threads > 0 ? new MLExtensions.Diffusion.Onnx.OnnxSessionSettings { IntraOpThreads = threads } : null;
        string root = FindRepositoryRoot();
        var context = new MLContext(seed: 1);
        Console.WriteLine($"cores={Environment.ProcessorCount}, load average {LoadAverage()}, Heun {Steps} steps = {2 * Steps - 1} NFE, " +
                          $"ONNX Runtime intra-op threads: {(threads > 0 ? threads.ToString() : "default (ORT's choice)")}; timing: whole batches for >= {seconds} s per engine and round after one warm-up batch");

        // Memory first, while the process is fresh: one stream of `large` rows at batch 4096 (graph engine), the process's
        // figures read at ten checkpoints without disturbing it (no forced GC, no sampling between checkpoints; the peak
        // working set is the kernel's high-water mark). Flat memory: the figures stop growing once the stream runs.
        var penguins = DiffusionModel.Load(Path.Combine(root, "models", "penguins", "model.zip"));
        Console.WriteLine();
        Console.WriteLine($"Memory while streaming {large} rows through mlContext.Diffusion().Generate (penguins, graph engine, batch 4096):");
        Console.WriteLine($"{"rows done",12} {"seconds",8} {"rows/s",10} {"WS MB",8} {"peak WS MB",11} {"private MB",11} {"heap MB",8} {"B/row",6} {"GCs 0/1/2",10} {"JIT methods",12}");
        Console.WriteLine("(WS: working set now; peak WS: the kernel's high-water mark (VmHWM); private: private bytes; heap: managed heap incl. " +
                          "garbage not yet collected; B/row: managed bytes allocated per row so far; GCs: collections during the stream; JIT methods: methods compiled so far, " +
                          "System.Runtime.JitInfo.GetCompiledMethodCount)");
        var checkpoints = new SortedSet<long>(Enumerable.Range(1, 10).Select(k => large * k / 10));
        var view = context.Diffusion().Generate(penguins, large, seed: 1, new GenerateOptions { Steps = Steps, BatchSize = 4096, SessionSettings = session });
        Drain(view, checkpoints);
        if (args[0] == "generate-stream") return;
        Console.WriteLine();
        Console.WriteLine($"rows/s, streaming view (latents drawn, generated column read), Heun {Steps} steps; {Rounds} interleaved rounds " +
                          $"(a, b, c, a, b, c, ...), each engine timed for >= {seconds} s per round; median over rounds, a/b and a/c also as min-max of the per-round ratios:");
        Console.WriteLine($"{"model",9} {"d",2} {"batch",6} {"(a) graph",10} {"(b) host",10} {"(c) C#",10} {"a/b",6} {"a/b min-max",12} {"a/c",6} {"a/c min-max",12}");
        foreach (string name in new[] { "penguins", "mixture" })
        {
            var model = name == "penguins" ? penguins : DiffusionModel.Load(Path.Combine(root, "models", name, "model.zip"));
            foreach (int batch in new[] { 256, 4096, 65536 })
            {
                var engines = new[] { GenerateEngine.OnnxGraph, GenerateEngine.OnnxHostLoop, GenerateEngine.CSharp };
                var generators = engines.Select(e => new GenerateTransformer(model, new GenerateOptions { Steps = Steps, BatchSize = batch, Engine = e, SessionSettings = session })).ToArray();
                try
                {
                    // One warm-up batch per engine (session start, first-run planning, JIT), which also sizes the timed runs.
                    var batches = generators.Select(g => Math.Max(1, (long)Math.Ceiling(seconds / Drain(g.GenerateRows(batch, seed: 2)).Seconds))).ToArray();
                    var rates = new double[engines.Length, Rounds];
                    for (int round = 0; round < Rounds; round++)
                        for (int e = 0; e < engines.Length; e++)
                        {
                            long rows = batches[e] * batch;
                            rates[e, round] = rows / Drain(generators[e].GenerateRows(rows, seed: 3 + round)).Seconds;
                        }
                    double Median(int e) => MedianOf(Enumerable.Range(0, Rounds).Select(r => rates[e, r]));
                    var ab = Enumerable.Range(0, Rounds).Select(r => rates[0, r] / rates[1, r]).ToArray();
                    var ac = Enumerable.Range(0, Rounds).Select(r => rates[0, r] / rates[2, r]).ToArray();
                    Console.WriteLine($"{name,9} {model.Dimension,2} {batch,6} {Median(0),10:F0} {Median(1),10:F0} {Median(2),10:F0} {MedianOf(ab),6:F2} " +
                                      $"{$"{ab.Min():F2}-{ab.Max():F2}",12} {MedianOf(ac),6:F2} {$"{ac.Min():F2}-{ac.Max():F2}",12}");
                }
                finally
                {
                    foreach (var g in generators) g.Dispose();
                }
            }
        }
        Console.WriteLine($"load average at the end: {LoadAverage()}");
    }

    private const int Rounds = 5;

    private static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }

    /// <summary>Reads every generated row, printing the process's memory figures at the checkpoints; returns the
    /// seconds taken and a checksum that keeps the reads alive.</summary>
    private static (double Seconds, double Checksum) Drain(IDataView view, SortedSet<long>? checkpoints = null)
    {
        var column = view.Schema[GenerateOptions.DefaultOutputColumnName];
        VBuffer<float> buffer = default;
        double checksum = 0;
        long rows = 0;
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
                if (checkpoints is not null && checkpoints.Contains(rows))
                {
                    process.Refresh();
                    double elapsed = watch.Elapsed.TotalSeconds;
                    double perRow = (GC.GetTotalAllocatedBytes(true) - allocatedAtStart) / (double)rows;
                    Console.WriteLine($"{rows,12} {elapsed,8:F1} {rows / elapsed,10:F0} {process.WorkingSet64 / 1048576.0,8:F1} " +
                                      $"{process.PeakWorkingSet64 / 1048576.0,11:F1} {process.PrivateMemorySize64 / 1048576.0,11:F1} " +
                                      $"{GC.GetTotalMemory(false) / 1048576.0,8:F1} {perRow,6:F1} " +
                                      $"{GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2,-4} {System.Runtime.JitInfo.GetCompiledMethodCount(),12}");
                }
            }
        }
        return (watch.Elapsed.TotalSeconds, checksum);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    internal static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLExtensions.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"MLExtensions.sln was not found above {AppContext.BaseDirectory}.");
    }
}
