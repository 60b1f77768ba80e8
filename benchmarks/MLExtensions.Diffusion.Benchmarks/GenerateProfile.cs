using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Samplers;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>
/// The <c>generate-profile</c> command (issue #5): where the generation time goes, for the shipped penguins model, Heun
/// with 10 steps (19 network evaluations). (1) ONNX Runtime's own profiler (<c>SessionOptions.EnableProfiling</c>) on the
/// compiled sampler graph and on the exported network, kernel time per operator type and per network evaluation;
/// (2) raw <c>InferenceSession.Run</c> on bound buffers against the drained streaming view, interleaved, for the graph and
/// for the host loop (the streaming view's own cost); (3) managed bytes allocated per <c>Run</c> call and per streamed batch.
/// </summary>
internal static class GenerateProfile
{
    private const int Steps = 10;
    private const int Nfe = 2 * Steps - 1;

    public static void Run(string[] args)
    {
        int batch = args.Length > 1 ? int.Parse(args[1]) : 1024;
        int threads = args.Length > 2 ? int.Parse(args[2]) : 1;
        var model = DiffusionModel.Load(Path.Combine(GenerateBenchmark.FindRepositoryRoot(), "models", "penguins", "model.zip"));
        int d = model.Dimension;
        Console.WriteLine($"penguins (d = {d}), Heun {Steps} steps = {Nfe} NFE, batch {batch}, ONNX Runtime intra-op threads {threads}");
        var graph = model.ExportSamplerOnnx(new HeunSampler(), Steps).Model.ToBytes();
        var network = model.ExportNetworkOnnx().ToBytes();
        var noise = new float[batch * d];
        var random = new Random(1);
        for (int i = 0; i < noise.Length; i++) noise[i] = (float)(2 * random.NextDouble() - 1);
        var levels = new float[batch];
        Array.Fill(levels, 0.5f);

        Console.WriteLine();
        Console.WriteLine("(1) ONNX Runtime profiler, kernel time per operator type (30 runs of the graph; 30 x 19 runs of the network):");
        Profile("sampler graph", graph, threads, batch, d, noise, levels, runs: 30);
        Profile("network (host loop's model)", network, threads, batch, d, noise, levels, runs: 30 * Nfe);

        Console.WriteLine();
        Console.WriteLine("(2) raw Run on bound buffers vs the drained streaming view, rows/s, 5 interleaved rounds:");
        using var graphRun = Bind(graph, threads, batch, d, noise, levels);
        using var networkRun = Bind(network, threads, batch, d, noise, levels);
        var settings = new Onnx.OnnxSessionSettings { IntraOpThreads = threads };
        using var graphEngine = new GenerateTransformer(model, new GenerateOptions { Steps = Steps, BatchSize = batch, Engine = GenerateEngine.OnnxGraph, SessionSettings = settings });
        using var hostEngine = new GenerateTransformer(model, new GenerateOptions { Steps = Steps, BatchSize = batch, Engine = GenerateEngine.OnnxHostLoop, SessionSettings = settings });
        int batches = Math.Max(4, 200_000 / batch);
        double Raw(BoundSession run, int callsPerBatch) => Timed(batches * batch, () => { for (int i = 0; i < batches * callsPerBatch; i++) run.Run(); });
        double Streamed(GenerateTransformer engine) => Timed(batches * batch, () => Drain(engine.GenerateRows(batches * batch, seed: 3)));
        Raw(graphRun, 1); Raw(networkRun, Nfe); Streamed(graphEngine); Streamed(hostEngine);
        Console.WriteLine($"{"raw graph",12} {"streamed",10} {"ratio",6} {"raw net x19",12} {"streamed host",14} {"ratio",6}");
        for (int round = 0; round < 5; round++)
        {
            double rawGraph = Raw(graphRun, 1), streamedGraph = Streamed(graphEngine), rawNetwork = Raw(networkRun, Nfe), streamedHost = Streamed(hostEngine);
            Console.WriteLine($"{rawGraph,12:F0} {streamedGraph,10:F0} {streamedGraph / rawGraph,6:F2} {rawNetwork,12:F0} {streamedHost,14:F0} {streamedHost / rawNetwork,6:F2}");
        }

        Console.WriteLine();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++) graphRun.Run();
        double perRun = (GC.GetAllocatedBytesForCurrentThread() - before) / 200.0;
        var view = graphEngine.GenerateRows(batch * 60L, seed: 4);
        var column = view.Schema[GenerateOptions.DefaultOutputColumnName];
        VBuffer<float> buffer = default;
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        for (int r = 0; r < batch * 10; r++) { cursor.MoveNext(); getter(ref buffer); }
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < batch * 50; r++) { cursor.MoveNext(); getter(ref buffer); }
        double perBatch = (GC.GetAllocatedBytesForCurrentThread() - before) / 50.0;
        Console.WriteLine($"(3) managed bytes allocated: {perRun:F0} per InferenceSession.Run call; {perBatch:F0} per streamed batch of {batch} rows (graph engine)");
    }

    private static void Profile(string label, byte[] model, int threads, int batch, int d, float[] noise, float[] levels, int runs)
    {
        string prefix = Path.Combine(Path.GetTempPath(), $"mlext-profile-{Environment.ProcessId}");
        using var run = Bind(model, threads, batch, d, noise, levels, prefix);
        for (int i = 0; i < runs; i++) run.Run();
        string file = run.EndProfiling();
        var byOp = new Dictionary<string, (double Microseconds, int Count)>();
        using (var json = JsonDocument.Parse(File.ReadAllText(file)))
            foreach (var e in json.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node" || !e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                string op = e.GetProperty("args").GetProperty("op_name").GetString()!;
                var (us, n) = byOp.GetValueOrDefault(op);
                byOp[op] = (us + e.GetProperty("dur").GetDouble(), n + 1);
            }
        File.Delete(file);
        double total = byOp.Values.Sum(v => v.Microseconds);
        // The profile also holds the warm-up runs: per evaluation = total / (number of runs incl. warm-up x evaluations per run).
        double evaluations = (runs + WarmUpRuns) * (label.StartsWith("sampler", StringComparison.Ordinal) ? Nfe : 1);
        Console.WriteLine($"  {label}: {total / evaluations,8:F1} us of kernel time per network evaluation");
        foreach (var (op, (us, n)) in byOp.OrderByDescending(kv => kv.Value.Microseconds))
            Console.WriteLine($"    {op,-14} {100 * us / total,5:F1} %  {us / evaluations,8:F1} us per evaluation  ({n} kernel calls)");
    }

    private static double Timed(long rows, Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return rows / watch.Elapsed.TotalSeconds;
    }

    private static void Drain(Microsoft.ML.IDataView view)
    {
        var column = view.Schema[GenerateOptions.DefaultOutputColumnName];
        VBuffer<float> buffer = default;
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        while (cursor.MoveNext()) getter(ref buffer);
    }

    private const int WarmUpRuns = 3;

    /// <summary>A session of <paramref name="model"/> with its input(s) and output bound once: the graph (input noise
    /// [N, d]) or the network (x [N, d], m and sigma [N, 1]); warmed up.</summary>
    private static BoundSession Bind(byte[] model, int threads, int batch, int d, float[] noise, float[] levels, string? profilePrefix = null)
    {
        var options = new SessionOptions { IntraOpNumThreads = threads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (profilePrefix is not null)
        {
            options.EnableProfiling = true;
            options.ProfileOutputPathPrefix = profilePrefix;
        }
        var bound = new BoundSession(model, options, session =>
        {
            var names = session.InputMetadata.Keys.ToArray();
            var inputs = names.Select(name => name is Onnx.NetworkOnnxExporter.InputM or Onnx.NetworkOnnxExporter.InputSigma
                ? OrtValue.CreateTensorValueFromMemory(levels, new long[] { batch, 1 })
                : OrtValue.CreateTensorValueFromMemory(noise, new long[] { batch, d })).ToArray();
            return (names, inputs, [session.OutputMetadata.Keys.First()], [OrtValue.CreateTensorValueFromMemory(new float[batch * d], new long[] { batch, d })]);
        });
        for (int i = 0; i < WarmUpRuns; i++) bound.Run();
        return bound;
    }
}
