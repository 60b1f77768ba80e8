using Microsoft.ML.OnnxRuntime;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// Creates ONNX Runtime <see cref="InferenceSession"/>s from models, bytes or files, turning load failures into
/// exceptions that name the model.
/// </summary>
public static class OnnxSessionFactory
{
    /// <summary>Creates a session for an in-memory model.</summary>
    /// <param name="model">The model.</param>
    /// <param name="settings">Session settings, or <see langword="null"/> for <see cref="OnnxSessionSettings.Default"/>.</param>
    /// <returns>A session the caller disposes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime rejected the model.</exception>
    public static InferenceSession Create(OnnxModel model, OnnxSessionSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return CreateCore(model.Bytes, null, settings);
    }

    /// <summary>Creates a session from serialised model bytes.</summary>
    /// <param name="modelBytes">Contents of an <c>.onnx</c> file.</param>
    /// <param name="settings">Session settings, or <see langword="null"/> for <see cref="OnnxSessionSettings.Default"/>.</param>
    /// <returns>A session the caller disposes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="modelBytes"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="modelBytes"/> is empty.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime rejected the model.</exception>
    public static InferenceSession Create(byte[] modelBytes, OnnxSessionSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(modelBytes);
        if (modelBytes.Length == 0)
            throw new ArgumentException("The model bytes are empty.", nameof(modelBytes));
        return CreateCore(modelBytes, null, settings);
    }

    /// <summary>Creates a session from an <c>.onnx</c> file.</summary>
    /// <param name="path">Path of the model file.</param>
    /// <param name="settings">Session settings, or <see langword="null"/> for <see cref="OnnxSessionSettings.Default"/>.</param>
    /// <returns>A session the caller disposes.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null, empty or white space.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime could not load the file (corrupt, truncated or unsupported); the message names the file.</exception>
    public static InferenceSession CreateFromFile(string path, OnnxSessionSettings? settings = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"ONNX model file '{full}' does not exist.", full);
        return CreateCore(null, full, settings);
    }

    private const string CudaProviderName = "CUDAExecutionProvider";
    private const string TensorRtProviderName = "TensorrtExecutionProvider";
    private const string GpuBuildHint =
        "Build with -p:OnnxRuntimeFlavor=Gpu (package Microsoft.ML.OnnxRuntime.Gpu) on a machine with CUDA and cuDNN installed, or choose OnnxExecutionProvider.Cpu or Auto.";

    /// <summary>The execution providers compiled into the loaded ONNX Runtime native library.</summary>
    public static IReadOnlyList<string> AvailableProviders => OrtEnv.Instance().GetAvailableProviders();

    /// <summary>
    /// Builds the ORT session options for <paramref name="settings"/>; the single place where threads, optimisation
    /// level, memory arena and execution providers are configured.
    /// </summary>
    /// <param name="settings">The settings.</param>
    /// <param name="provider">The provider the session will run on (Auto resolved to Cuda or Cpu).</param>
    /// <exception cref="InvalidOperationException">Cuda or TensorRt was asked for explicitly and cannot be used.</exception>
    internal static SessionOptions CreateSessionOptions(OnnxSessionSettings settings, out OnnxExecutionProvider provider)
    {
        var options = new SessionOptions();
        try
        {
            options.IntraOpNumThreads = settings.EffectiveIntraOpThreads;
            options.GraphOptimizationLevel = settings.OptimizeGraph
                ? GraphOptimizationLevel.ORT_ENABLE_ALL
                : GraphOptimizationLevel.ORT_DISABLE_ALL;
            options.EnableCpuMemArena = settings.EnableCpuMemoryArena;
            options.EnableMemoryPattern = settings.EnableMemoryPattern;
            provider = AppendProvider(options, settings);
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The provider a session with <paramref name="settings"/> would run on here, without creating one:
    /// <see cref="OnnxExecutionProvider.Auto"/> resolves to Cuda when the native library offers it and it starts, else Cpu.
    /// </summary>
    /// <param name="settings">The settings, or <see langword="null"/> for <see cref="OnnxSessionSettings.Default"/>.</param>
    /// <exception cref="InvalidOperationException">Cuda or TensorRt was asked for explicitly and cannot be used.</exception>
    public static OnnxExecutionProvider ResolveProvider(OnnxSessionSettings? settings = null)
    {
        using var options = CreateSessionOptions(settings ?? OnnxSessionSettings.Default, out var provider);
        return provider;
    }

    private static OnnxExecutionProvider AppendProvider(SessionOptions options, OnnxSessionSettings settings)
    {
        var available = AvailableProviders;
        switch (settings.ExecutionProvider)
        {
            case OnnxExecutionProvider.Cpu:
                return OnnxExecutionProvider.Cpu;
            case OnnxExecutionProvider.Cuda:
                RequireProvider(available, CudaProviderName, "Cuda");
                AppendCuda(options, settings, "Cuda");
                return OnnxExecutionProvider.Cuda;
            case OnnxExecutionProvider.TensorRt:
                RequireProvider(available, TensorRtProviderName, "TensorRt");
                try
                {
                    options.AppendExecutionProvider_Tensorrt(settings.DeviceId);
                }
                catch (OnnxRuntimeException ex)
                {
                    throw new InvalidOperationException(
                        $"OnnxExecutionProvider.TensorRt: the TensorRT execution provider could not start on device {settings.DeviceId} " +
                        $"({ex.Message}): {CudaLibraryProbe.Explain()}, and TensorRT 10 for this provider. Install them, or choose OnnxExecutionProvider.Cpu or Auto.", ex);
                }
                // Nodes TensorRT does not take run on CUDA rather than on the CPU.
                AppendCuda(options, settings, "TensorRt");
                return OnnxExecutionProvider.TensorRt;
            default:
                if (!available.Contains(CudaProviderName))
                {
                    Warn(settings, $"ONNX Runtime: the CUDA execution provider is not in the loaded native library " +
                                   $"(available: {string.Join(", ", available)}); running on the CPU.");
                    return OnnxExecutionProvider.Cpu;
                }
                try
                {
                    AppendCudaProvider(options, settings);
                    return OnnxExecutionProvider.Cuda;
                }
                catch (OnnxRuntimeException ex)
                {
                    Warn(settings, $"ONNX Runtime: the CUDA execution provider did not start on device {settings.DeviceId} " +
                                   $"({ex.Message}): {CudaLibraryProbe.Explain()}; running on the CPU.");
                    return OnnxExecutionProvider.Cpu;
                }
        }
    }

    private static void RequireProvider(IReadOnlyList<string> available, string providerName, string requested)
    {
        if (!available.Contains(providerName))
            throw new InvalidOperationException(
                $"OnnxExecutionProvider.{requested} was requested, but the loaded ONNX Runtime native library offers only " +
                $"{string.Join(", ", available)}. {GpuBuildHint}");
    }

    /// <summary>The CUDA provider with the settings' device, TF32 and CUDA-graph options.</summary>
    private static void AppendCudaProvider(SessionOptions options, OnnxSessionSettings settings)
    {
        using var cuda = new OrtCUDAProviderOptions();
        cuda.UpdateOptions(new Dictionary<string, string>
        {
            ["device_id"] = settings.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["use_tf32"] = settings.AllowTensorFloat32 ? "1" : "0",
            ["enable_cuda_graph"] = settings.CudaGraph ? "1" : "0",
        });
        options.AppendExecutionProvider_CUDA(cuda);
    }

    private static void AppendCuda(SessionOptions options, OnnxSessionSettings settings, string requested)
    {
        int deviceId = settings.DeviceId;
        try
        {
            AppendCudaProvider(options, settings);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidOperationException(
                $"OnnxExecutionProvider.{requested}: the CUDA execution provider could not start on device {deviceId} ({ex.Message}): " +
                $"{CudaLibraryProbe.Explain()}. Install them, or choose OnnxExecutionProvider.Cpu or Auto.", ex);
        }
    }

    private static void Warn(OnnxSessionSettings settings, string message)
    {
        if (settings.Warning is { } sink) sink(message);
        else System.Diagnostics.Trace.TraceWarning(message);
    }

    private static InferenceSession CreateCore(byte[]? bytes, string? path, OnnxSessionSettings? settings)
    {
        using var options = CreateSessionOptions(settings ?? OnnxSessionSettings.Default, out _);
        try
        {
            return path is null ? new InferenceSession(bytes!, options) : new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException ex)
        {
            string what = path is null ? $"in-memory ONNX model ({bytes!.Length} bytes)" : $"ONNX model file '{path}'";
            throw new InvalidDataException($"ONNX Runtime could not load the {what}: {ex.Message}", ex);
        }
    }
}
