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

    /// <summary>
    /// Builds the ORT session options for <paramref name="settings"/>; the single place where threads, optimisation
    /// level and (later) execution providers are configured.
    /// </summary>
    internal static SessionOptions CreateSessionOptions(OnnxSessionSettings settings)
    {
        var options = new SessionOptions();
        try
        {
            options.IntraOpNumThreads = settings.IntraOpThreads;
            options.GraphOptimizationLevel = settings.OptimizeGraph
                ? GraphOptimizationLevel.ORT_ENABLE_ALL
                : GraphOptimizationLevel.ORT_DISABLE_ALL;
            // Execution providers: CPU is ONNX Runtime's default and always present; others are appended here later.
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    private static InferenceSession CreateCore(byte[]? bytes, string? path, OnnxSessionSettings? settings)
    {
        using var options = CreateSessionOptions(settings ?? OnnxSessionSettings.Default);
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
