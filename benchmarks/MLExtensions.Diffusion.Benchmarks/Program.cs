using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLExtensions.Diffusion.Benchmarks;
using MLExtensions.Diffusion.Training;

string mode = args.Length > 0 ? args[0] : "train";
if (mode == "gauss") { GaussianFitExperiment.Run(args); return; }
int threads = args.Length > 1 ? int.Parse(args[1]) : Environment.ProcessorCount;
Console.WriteLine($"mode={mode} threads={threads} cores={Environment.ProcessorCount} best kernel={(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "Vector512" : "Vector256/128")}");

var shapes = new (int M, int N, int K, string What)[]
{
    (1024, 256, 256, "hidden forward  Y = X W^T"),
    (256, 256, 1024, "hidden weight grad dW = dY^T X"),
    (1024, 256, 34, "input layer (d=2 + 32 emb)"),
    (256, 128, 128, "256x128x128 reference"),
};

Console.WriteLine();
Console.WriteLine("GEMM GFLOP/s (ours vs ONNX Runtime MatMul, same shapes, same run)");
Console.WriteLine($"{"m",6} {"n",6} {"k",6} {"ours(NT)",9} {"ours(NN)",9} {"ours(TN)",9} {"ORT",9} {"ratio",6}  shape");
foreach (var (m, n, k, what) in shapes)
{
    double nt = GemmGflops(m, n, k, false, true, threads);
    double nn = GemmGflops(m, n, k, false, false, threads);
    double tn = GemmGflops(m, n, k, true, false, threads);
    double ort = OrtGflops(m, n, k, threads);
    Console.WriteLine($"{m,6} {n,6} {k,6} {nt,9:F1} {nn,9:F1} {tn,9:F1} {ort,9:F1} {nn / ort,6:F2}  {what}");
}

if (mode == "train")
    TrainBenchmark.Run(threads);

static double GemmGflops(int m, int n, int k, bool ta, bool tb, int threads)
{
    var rng = new Random(1);
    var a = new float[m * k];
    var b = new float[k * n];
    var c = new float[m * n];
    for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble();
    for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble();
    double flop = 2.0 * m * n * k;
    int reps = Math.Max(3, (int)(2e8 / flop));
    for (int i = 0; i < reps; i++) Gemm.Multiply(ta, tb, m, n, k, 1f, a, b, 0f, c, threads);
    double best = double.MaxValue;
    for (int round = 0; round < 5; round++)
    {
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) Gemm.Multiply(ta, tb, m, n, k, 1f, a, b, 0f, c, threads);
        best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
    }
    return flop / best / 1e9;
}

static double OrtGflops(int m, int n, int k, int threads)
{
    using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
    options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
    using var session = new InferenceSession(OnnxMatMulModel.Build(m, n, k), options);
    var rng = new Random(1);
    var a = new float[m * k];
    var b = new float[k * n];
    for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble();
    for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble();
    var c = new float[m * n];
    using var ta = OrtValue.CreateTensorValueFromMemory(a, new long[] { m, k });
    using var tb = OrtValue.CreateTensorValueFromMemory(b, new long[] { k, n });
    using var tc = OrtValue.CreateTensorValueFromMemory(c, new long[] { m, n });
    using var runOptions = new RunOptions();
    var inputNames = new[] { "A", "B" };
    var outputNames = new[] { "C" };
    var inputs = new[] { ta, tb };
    var outputs = new[] { tc };
    double flop = 2.0 * m * n * k;
    int reps = Math.Max(3, (int)(2e8 / flop));
    for (int i = 0; i < reps; i++) session.Run(runOptions, inputNames, inputs, outputNames, outputs);
    double best = double.MaxValue;
    for (int round = 0; round < 5; round++)
    {
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) session.Run(runOptions, inputNames, inputs, outputNames, outputs);
        best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
    }
    return flop / best / 1e9;
}
