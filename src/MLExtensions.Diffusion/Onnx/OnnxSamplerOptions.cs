using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>Options of an <see cref="OnnxSampler"/>.</summary>
public sealed class OnnxSamplerOptions
{
    /// <summary>The largest <see cref="BatchSize"/>: 2^22 rows (with d = 4, 64 MiB of latents and as much of samples, plus
    /// the graph's activations).</summary>
    public const int MaximumBatchSize = 1 << 22;

    private int _batchSize = 4096;

    /// <summary>The plan to compile; null (the default) for the model's own <see cref="Models.DiffusionModelParameters.SamplingPlan"/>.</summary>
    public SamplingPlan? Plan { get; init; }

    /// <summary>Rows per ONNX Runtime run (default 4096: cache-sized on a CPU). On a GPU use large batches (65536 and up)
    /// so that one run fills the device.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in [1, <see cref="MaximumBatchSize"/>].</exception>
    public int BatchSize
    {
        get => _batchSize;
        init
        {
            if (value < 1 || value > MaximumBatchSize)
                throw new ArgumentOutOfRangeException(nameof(BatchSize), value, $"'BatchSize' must lie in [1, {MaximumBatchSize}].");
            _batchSize = value;
        }
    }

    /// <summary>Session settings: execution provider (Auto by default: CUDA when it starts, else the CPU with a warning),
    /// device, threads, CUDA graph, TF32. Null for <see cref="OnnxSessionSettings.Default"/>.</summary>
    public OnnxSessionSettings? Session { get; init; }
}
