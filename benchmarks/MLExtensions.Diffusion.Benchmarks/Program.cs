using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using MLExtensions.Diffusion.Benchmarks;
using MLExtensions.Diffusion.Training;

// Usage: dotnet run -c Release --project benchmarks/MLExtensions.Diffusion.Benchmarks -- [train|gemm|gauss|generate ...] [threads]
// train: GEMM table (ours vs ONNX Runtime, interleaved rounds, best of each) and train-step throughput, for 1 thread and
// for the given thread count (default: processor count). gemm: the table only. gauss: see GaussianFitExperiment.
// generate [streamRows=10000000] [secondsPerRound=0.4] [onnxThreads=0 (ORT default)]: see GenerateBenchmark (issue #5);
// generate-stream [streamRows] [_] [onnxThreads]: its memory section only (e.g. under heaptrack).
// generate-profile [batch=1024] [onnxThreads=1]: see GenerateProfile.
// plans [rows=10000] [nfe list]: error-vs-NFE curves of sampling plans on the shipped models (issue #9), see PlanStudy.
// default-grids: the default grid's choice (EDM rho / log-SNR / uniform angle, three top levels, two seeds), see DefaultGridStudy.
// search [seeds=5]: see TunerStudy (random vs Gaussian-process tuners on a smooth bowl and on Branin).
// schedule-tuners [seeds=5] [nfe=7]: the same comparison on the penguins model's sampling space, see ScheduleTunerStudy.
// feature-transforms [seeds=3]: standardisation vs the quantile-normal transform on the shipped data (issue 10), see FeatureTransformStudy.
// gpu-sampler [rows=1048576] [rounds=3]: the compiled sampler under I/O binding, CPU (2 threads, all) vs CUDA (host buffers, CUDA graph), see GpuSamplerBenchmark (issue 12).
// early-stopping [seeds=3]: the guide's settings on penguins with and without a validation split (issue 10), see EarlyStoppingStudy.
// serve-load [clients=8] [seconds=30] [rows=64] [engine=Onnx]: loopback load test of the sampler service under hot reloads (issue 13), see ServiceLoadTest.
// likelihood [rows=1024] [streamRows=1000000] [rounds=3] [tolerance=1e-4]: today's vs the compiled likelihood engine (issue #12), see LikelihoodBenchmark.
// cluster [spinTrials=48] [genRows=200000]: the Orleans path against the local one, 1/2/4 silos, overhead model (issue 14), see ClusterBenchmark.
string mode = args.Length > 0 ? args[0] : "train";
if (mode == "gauss") { GaussianFitExperiment.Run(args); return; }
if (mode is "generate" or "generate-stream") { GenerateBenchmark.Run(args); return; }
if (mode == "generate-profile") { GenerateProfile.Run(args); return; }
if (mode == "plans") { PlanStudy.Run(args); return; }
if (mode == "default-grids") { DefaultGridStudy.Run(); return; }
if (mode == "search") { TunerStudy.Run(args); return; }
if (mode == "schedule-tuners") { ScheduleTunerStudy.Run(args); return; }
if (mode == "feature-transforms") { FeatureTransformStudy.Run(args); return; }
if (mode == "early-stopping") { EarlyStoppingStudy.Run(args); return; }
if (mode == "gpu-sampler") { GpuSamplerBenchmark.Run(args); return; }
if (mode == "serve-load") { ServiceLoadTest.Run(args); return; }
if (mode == "likelihood") { LikelihoodBenchmark.Run(args); return; }
if (mode == "cluster") { ClusterBenchmark.Run(args); return; }
int maxThreads = args.Length > 1 ? int.Parse(args[1]) : Environment.ProcessorCount;
Console.WriteLine($"cores={Environment.ProcessorCount}, kernel={(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "Vector512 12x32" : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "Vector256 6x16" : "Vector128/scalar")}");

var shapes = new (int M, int N, int K, bool TA, bool TB, string What)[]
{
    (1024, 256, 256, false, true, "hidden forward   Y = X W^T"),
    (1024, 256, 256, false, false, "hidden input grad dX = dY W"),
    (256, 256, 1024, true, false, "hidden weight grad dW = dY^T X"),
    (1024, 256, 34, false, true, "input layer forward (d=2 + 32 emb)"),
    (256, 128, 128, false, false, "256x128x128 reference"),
};

foreach (int threads in maxThreads > 1 ? new[] { 1, maxThreads } : new[] { 1 })
{
    Console.WriteLine();
    Console.WriteLine($"threads={threads}: GEMM GFLOP/s, ours vs ONNX Runtime MatMul on the same (m, n, k), interleaved rounds (alternating which goes first), best of 7");
    Console.WriteLine($"{"m",6} {"n",6} {"k",6} {"op",4} {"ours",8} {"ORT",8} {"ratio",6}  shape");
    foreach (var (m, n, k, ta, tb, what) in shapes)
    {
        using var ort = new OrtMatMul(m, n, k, threads);
        var ours = new OurGemm(m, n, k, ta, tb, threads);
        double bestOurs = 0, bestOrt = 0;
        for (int round = 0; round < 7; round++)
        {
            // The engines take turns at going first: after the pause the cores start slow (clock and wake-up), and the
            // engine that runs second would always find them warmed up by the first.
            if (round % 2 == 0)
            {
                bestOurs = Math.Max(bestOurs, ours.Measure());
                bestOrt = Math.Max(bestOrt, ort.Measure());
            }
            else
            {
                bestOrt = Math.Max(bestOrt, ort.Measure());
                bestOurs = Math.Max(bestOurs, ours.Measure());
            }
            // ORT's pool threads (default settings) spin for a while after a run; let them go idle before the next round.
            Thread.Sleep(50);
        }
        Console.WriteLine($"{m,6} {n,6} {k,6} {(ta ? "T" : "N") + (tb ? "T" : "N"),4} {bestOurs,8:F1} {bestOrt,8:F1} {bestOurs / bestOrt,6:F2}  {what}");
    }
    if (mode == "train") TrainBenchmark.Run(threads);
}

/// <summary>Times our GEMM on one shape.</summary>
internal sealed class OurGemm
{
    private readonly int _m, _n, _k, _threads;
    private readonly bool _ta, _tb;
    private readonly float[] _a, _b, _c;

    public OurGemm(int m, int n, int k, bool ta, bool tb, int threads)
    {
        (_m, _n, _k, _ta, _tb, _threads) = (m, n, k, ta, tb, threads);
        var rng = new Random(1);
        _a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble()).ToArray();
        _b = Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble()).ToArray();
        _c = new float[m * n];
        Measure();
    }

    public double Measure()
    {
        double flop = 2.0 * _m * _n * _k;
        int reps = Math.Max(5, (int)(1e9 / flop));
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) Gemm.Multiply(_ta, _tb, _m, _n, _k, 1f, _a, _b, 0f, _c, _threads);
        return flop * reps / sw.Elapsed.TotalSeconds / 1e9;
    }
}

/// <summary>Times ONNX Runtime's MatMul (a hand-encoded one-node model) on one shape.</summary>
internal sealed class OrtMatMul : IDisposable
{
    private readonly int _m, _n, _k;
    private readonly BoundSession _session;

    public OrtMatMul(int m, int n, int k, int threads)
    {
        (_m, _n, _k) = (m, n, k);
        var rng = new Random(1);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble()).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble()).ToArray();
        _session = new BoundSession(OnnxMatMulModel.Build(m, n, k),
            new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL },
            _ => (["A", "B"], [OrtValue.CreateTensorValueFromMemory(a, new long[] { m, k }), OrtValue.CreateTensorValueFromMemory(b, new long[] { k, n })],
                  ["C"], [OrtValue.CreateTensorValueFromMemory(new float[m * n], new long[] { m, n })]));
        Measure();
    }

    public double Measure()
    {
        double flop = 2.0 * _m * _n * _k;
        int reps = Math.Max(5, (int)(1e9 / flop));
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) _session.Run();
        return flop * reps / sw.Elapsed.TotalSeconds / 1e9;
    }

    public void Dispose() => _session.Dispose();
}
