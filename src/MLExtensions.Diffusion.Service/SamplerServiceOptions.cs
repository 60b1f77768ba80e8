namespace MLExtensions.Diffusion.Service;

/// <summary>
/// Settings of the sampler service: where the models are, where it listens, its limits and its API keys. Bound from the
/// configuration section <see cref="SectionName"/> (e.g. <c>SamplerService__MaxRowsPerRequest=50000</c> in the
/// environment) and from the options of <c>mldiffusion serve</c>; checked in one place, <see cref="Validate"/>.
/// </summary>
public sealed class SamplerServiceOptions
{
    /// <summary>The configuration section the options are bound from, "SamplerService".</summary>
    public const string SectionName = "SamplerService";

    /// <summary>The folder of model files (<c>*.zip</c>, the library's model format); a model is named by its file name
    /// without the extension. Required.</summary>
    public string ModelsFolder { get; set; } = "";

    /// <summary>The addresses Kestrel listens on, separated by ';' (default <c>http://127.0.0.1:5080</c>, loopback only).
    /// Any address that is not loopback requires at least one <see cref="ApiKeys"/> entry.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Accepted values of the <c>X-Api-Key</c> header. Empty (the default): no authentication, allowed only on
    /// loopback addresses. Keys are never logged.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>The most rows one samples request may ask for (default 100 000).</summary>
    public int MaxRowsPerRequest { get; set; } = 100_000;

    /// <summary>The most rows one likelihood request may send (default 10 000; scoring is far dearer than sampling).</summary>
    public int MaxLikelihoodRowsPerRequest { get; set; } = 10_000;

    /// <summary>The largest network-evaluation budget (<c>nfe</c>) a samples request may ask for (default 201).</summary>
    public int MaxNfe { get; set; } = 201;

    /// <summary>The largest request body in bytes (default 1 MiB); a larger one gets 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1 << 20;

    /// <summary>How long a samples or likelihood request may take, waiting in the queue included (default 30 s); a request
    /// past it gets 504 when its response has not started, else its connection is aborted.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Samples and likelihood requests computed at once (default: the processor count).</summary>
    public int MaxConcurrentRequests { get; set; } = Environment.ProcessorCount;

    /// <summary>Requests that may wait for a free slot (default 64); one more gets 429.</summary>
    public int QueueLimit { get; set; } = 64;

    /// <summary>The engine that generates rows and scores likelihoods (default <see cref="SamplingEngine.Onnx"/>: ONNX
    /// Runtime, on the GPU when one is usable).</summary>
    public SamplingEngine Engine { get; set; } = SamplingEngine.Onnx;

    /// <summary>The ONNX Runtime execution provider of <see cref="SamplingEngine.Onnx"/>: "Auto" (default: CUDA when the GPU
    /// build and a device are present, else CPU), "Cpu", "Cuda" or "TensorRt".</summary>
    public string ExecutionProvider { get; set; } = "Auto";

    /// <summary>Integration steps of the probability-flow ODE of the likelihood endpoint (default 64).</summary>
    public int LikelihoodSteps { get; set; } = 64;

    /// <summary>How often the models folder is scanned besides the file-system watcher's events (default 2 s).</summary>
    public TimeSpan ReloadPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a changed model file must keep the same size and time stamp before it is loaded (default 500 ms),
    /// so that a file still being written is not read.</summary>
    public TimeSpan ReloadDebounce { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long shutdown waits for requests in flight to finish (default 30 s).</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentException">A setting is out of range or missing; the message and ParamName name it.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelsFolder))
            throw new ArgumentException($"'{nameof(ModelsFolder)}' is required: the folder of model files (*.zip) to serve.", nameof(ModelsFolder));
        if (string.IsNullOrWhiteSpace(Urls)) throw new ArgumentException($"'{nameof(Urls)}' must not be blank.", nameof(Urls));
        Positive(MaxRowsPerRequest, nameof(MaxRowsPerRequest));
        Positive(MaxLikelihoodRowsPerRequest, nameof(MaxLikelihoodRowsPerRequest));
        Positive(MaxNfe, nameof(MaxNfe));
        if (MaxRequestBodyBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxRequestBodyBytes), MaxRequestBodyBytes, $"'{nameof(MaxRequestBodyBytes)}' must be positive.");
        PositiveTime(RequestTimeout, nameof(RequestTimeout));
        Positive(MaxConcurrentRequests, nameof(MaxConcurrentRequests));
        if (QueueLimit < 0) throw new ArgumentOutOfRangeException(nameof(QueueLimit), QueueLimit, $"'{nameof(QueueLimit)}' must not be negative.");
        if (!Enum.IsDefined(Engine)) throw new ArgumentOutOfRangeException(nameof(Engine), Engine, "Unknown engine.");
        if (!ServedModel.IsKnownProvider(ExecutionProvider))
            throw new ArgumentException($"'{nameof(ExecutionProvider)}' = '{ExecutionProvider}' is not one of Auto, Cpu, Cuda, TensorRt.", nameof(ExecutionProvider));
        Positive(LikelihoodSteps, nameof(LikelihoodSteps));
        PositiveTime(ReloadPollInterval, nameof(ReloadPollInterval));
        if (ReloadDebounce < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ReloadDebounce), ReloadDebounce, $"'{nameof(ReloadDebounce)}' must not be negative.");
        PositiveTime(ShutdownTimeout, nameof(ShutdownTimeout));
        if (ApiKeys.Any(string.IsNullOrEmpty))
            throw new ArgumentException($"'{nameof(ApiKeys)}' holds an empty key.", nameof(ApiKeys));
    }

    private static void Positive(int value, string name)
    {
        if (value < 1) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be at least 1.");
    }

    private static void PositiveTime(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be positive.");
    }
}
