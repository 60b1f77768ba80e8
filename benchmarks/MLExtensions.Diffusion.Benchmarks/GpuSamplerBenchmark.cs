using System.Diagnostics;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Onnx;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>
/// The <c>gpu-sampler</c> command (issue 12): rows/s of the compiled sampler graph under I/O binding
/// (<see cref="OnnxSampler"/>) on the CPU provider with 2 intra-op threads (the project's two-core baseline) and with all
/// cores, against the CUDA provider with host-bound buffers and with CUDA-graph replay on device buffers, at batch sizes
/// 4096 / 65536 / 262144, in one run; then the largest |GPU - CPU| difference over the first batch, in units of each
/// feature's scale (the GPU rows must equal the CPU rows to float32 rounding: TF32 is off by default).
/// Run it where a GPU is: benchmarks/gpu/publish.sh makes a self-contained folder that needs no .NET SDK.
/// Usage: gpu-sampler [rowsPerMeasurement=1048576] [rounds=3]
/// </summary>
internal static class GpuSamplerBenchmark
{
    public static void Run(string[] args)
    {
        long rows = args.Length > 1 ? long.Parse(args[1]) : 1 << 20;
        int rounds = args.Length > 2 ? int.Parse(args[2]) : 3;
        string models = ShippedData.ModelsFolder();
        Console.WriteLine($"cores={Environment.ProcessorCount}; ONNX Runtime providers in the loaded library: {string.Join(", ", OnnxSessionFactory.AvailableProviders)}");
        string? cudaProblem = null;
        try
        {
            OnnxSessionFactory.ResolveProvider(new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Cuda });
        }
        catch (InvalidOperationException ex)
        {
            cudaProblem = ex.Message;
        }
        Console.WriteLine(cudaProblem is null ? "CUDA provider: starts." : $"CUDA provider: unavailable, GPU rows are skipped ({cudaProblem})");

        foreach (string name in new[] { "penguins", "mixture" })
        {
            var model = DiffusionModelParameters.Load(Path.Combine(models, name, "model.zip"));
            Console.WriteLine();
            Console.WriteLine($"{name}: d = {model.Dimension}, plan {model.SamplingPlan.Sampler} NFE {model.SamplingPlan.Nfe}; {rows} rows per measurement, best of {rounds}");
            Console.WriteLine($"{"batch",8} {"engine",-28} {"rows/s",12} {"vs CPU 2 thr",13} {"max |dGPU|/scale",17}");
            foreach (int batch in new[] { 4096, 65536, 262144 })
            {
                var engines = new List<(string Name, OnnxSessionSettings Settings)>
                {
                    ("cpu, 2 threads", new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Cpu, IntraOpThreads = 2 }),
                };
                if (Environment.ProcessorCount > 2)
                    engines.Add(($"cpu, {Environment.ProcessorCount} threads", new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Cpu }));
                if (cudaProblem is null)
                {
                    engines.Add(("cuda, host-bound buffers", new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Cuda }));
                    engines.Add(("cuda, CUDA graph, device buffers", new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Cuda, CudaGraph = true }));
                }
                float[]? reference = null;
                double baseline = 0;
                foreach (var (engine, settings) in engines)
                {
                    using var sampler = new OnnxSampler(model, new OnnxSamplerOptions { BatchSize = batch, Session = settings });
                    var buffer = new float[(long)batch * model.Dimension];
                    sampler.Generate(seed: 1, firstRow: 0, buffer);   // warm-up (and CUDA-graph capture)
                    string difference = "";
                    if (reference is null) reference = (float[])buffer.Clone();
                    else if (sampler.ExecutionProvider != OnnxExecutionProvider.Cpu)
                        difference = $"{MaxScaledDifference(reference, buffer, model):E2}";
                    double best = 0;
                    for (int round = 0; round < rounds; round++)
                    {
                        var clock = Stopwatch.StartNew();
                        for (long done = 0; done < rows; done += batch) sampler.Generate(seed: 2, firstRow: done, buffer);
                        best = Math.Max(best, Math.Ceiling((double)rows / batch) * batch / clock.Elapsed.TotalSeconds);
                    }
                    if (baseline == 0) baseline = best;
                    string label = sampler.UsesCudaGraph || settings.CudaGraph == false ? engine : engine + " (graph not used)";
                    Console.WriteLine($"{batch,8} {label,-28} {best,12:N0} {best / baseline,12:F2}x {difference,17}");
                }
            }
        }
    }

    private static double MaxScaledDifference(float[] cpu, float[] gpu, DiffusionModelParameters model)
    {
        int d = model.Dimension;
        double worst = 0;
        for (int i = 0; i < cpu.Length; i++) worst = Math.Max(worst, Math.Abs(cpu[i] - gpu[i]) / model.FeatureScaler.Scale[i % d]);
        return worst;
    }
}
