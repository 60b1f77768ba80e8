namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>Train-step throughput of the time-conditioned MLP (filled in once the network exists).</summary>
internal static class TrainBenchmark
{
    public static void Run(int threads) => Console.WriteLine($"(train benchmark pending, threads={threads})");
}
