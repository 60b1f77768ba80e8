namespace MLExtensions.Diffusion.Onnx;

/// <summary>Settings for ONNX Runtime sessions created by <see cref="OnnxSessionFactory"/>.</summary>
/// <remarks>
/// The GPU providers need the GPU build of the native library: build with <c>-p:OnnxRuntimeFlavor=Gpu</c> (which references
/// Microsoft.ML.OnnxRuntime.Gpu instead of Microsoft.ML.OnnxRuntime) on a machine with CUDA installed.
/// </remarks>
public sealed class OnnxSessionSettings
{
    private readonly int _intraOpThreads;
    private readonly int _deviceId;
    private readonly OnnxExecutionProvider _executionProvider;

    /// <summary>The execution provider; <see cref="OnnxExecutionProvider.Auto"/> by default.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined provider.</exception>
    public OnnxExecutionProvider ExecutionProvider
    {
        get => _executionProvider;
        init
        {
            if (!Enum.IsDefined(value))
                throw new ArgumentOutOfRangeException(nameof(ExecutionProvider), value, "Unknown execution provider.");
            _executionProvider = value;
        }
    }

    /// <summary>The GPU ordinal for CUDA and TensorRT (0 by default); ignored on CPU.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int DeviceId
    {
        get => _deviceId;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(DeviceId));
            _deviceId = value;
        }
    }

    /// <summary>
    /// Receives warnings such as the fall-back from CUDA to CPU under <see cref="OnnxExecutionProvider.Auto"/>; when null
    /// they go to <see cref="System.Diagnostics.Trace"/>.
    /// </summary>
    public Action<string>? Warning { get; init; }

    /// <summary>Threads used inside one operator; 0 (the default) for one per logical processor,
    /// <see cref="Environment.ProcessorCount"/> (which honours container CPU limits). ONNX Runtime's own default counts
    /// physical cores only, which left a generate engine on one core of a two-vCPU machine (issue 10, item 12);
    /// <see cref="EffectiveIntraOpThreads"/> is the count a session gets.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int IntraOpThreads
    {
        get => _intraOpThreads;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(IntraOpThreads));
            _intraOpThreads = value;
        }
    }

    /// <summary>The intra-op thread count sessions with these settings use: <see cref="IntraOpThreads"/>, or
    /// <see cref="Environment.ProcessorCount"/> when it is 0.</summary>
    public int EffectiveIntraOpThreads => _intraOpThreads > 0 ? _intraOpThreads : Environment.ProcessorCount;

    /// <summary>Whether ONNX Runtime applies all graph optimisations (constant folding, fusions); default true.</summary>
    public bool OptimizeGraph { get; init; } = true;

    /// <summary>
    /// Whether ONNX Runtime serves CPU tensors from its memory arena (default true). The arena keeps the blocks it has
    /// grown and reuses them; turning it off returns intermediates to the system allocator after each run, trading some
    /// allocation cost for a working set that does not keep the arena's high-water mark.
    /// </summary>
    public bool EnableCpuMemoryArena { get; init; } = true;

    /// <summary>
    /// Whether ONNX Runtime plans one memory block per input shape from the first runs and reuses it (default true);
    /// useful for fixed shapes, a cost when batch sizes vary.
    /// </summary>
    public bool EnableMemoryPattern { get; init; } = true;

    /// <summary>
    /// Whether the CUDA provider captures the first runs into a CUDA graph and replays it (ONNX Runtime's
    /// <c>enable_cuda_graph</c>; default false). It needs fixed shapes and inputs and outputs bound to fixed device
    /// memory, which <see cref="OnnxSampler"/> provides; ignored on the CPU.
    /// </summary>
    public bool CudaGraph { get; init; }

    /// <summary>
    /// Whether the CUDA provider may run float32 matrix products in TensorFloat-32 (10-bit mantissa) on GPUs that have
    /// it (ONNX Runtime's <c>use_tf32</c>). Default false, so GPU samples equal CPU samples to float32 rounding; true
    /// trades that for speed. Ignored on the CPU.
    /// </summary>
    public bool AllowTensorFloat32 { get; init; }

    /// <summary>Default settings.</summary>
    public static OnnxSessionSettings Default { get; } = new();
}
