using Microsoft.ML.OnnxRuntime;
using MLExtensions.Diffusion.Denoisers;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// An <see cref="IDenoiser"/> that evaluates an exported denoiser graph (<see cref="NetworkOnnxExporter"/>) in ONNX
/// Runtime, so the C# samplers can run with the network in ORT (the "host loop": solver in C#, network in ORT).
/// </summary>
/// <remarks>
/// <para>Each <see cref="Denoise"/> converts the rows to float, feeds m and sigma as [N, 1] columns and runs the graph in
/// batches of at most <see cref="MaxBatchRows"/> rows. The float buffers and the ORT values bound to them are kept and
/// reused while the batch size stays the same, so a sampler's repeated calls allocate nothing on the managed side.</para>
/// <para>Thread safety: calls are serialised by a lock (the buffers are shared); ONNX Runtime parallelises inside each
/// run. Use one instance per thread for concurrent evaluation. <see cref="Dispose"/> must not race with a call.</para>
/// <para>At sigma = 0 it returns x / m without running the graph (as <see cref="Training.NeuralDenoiser"/> does).</para>
/// </remarks>
public sealed class OnnxDenoiser : IDenoiser, IDisposable
{
    /// <summary>The default largest batch per ORT run.</summary>
    public const int DefaultMaxBatchRows = 16384;

    private readonly OnnxBatchRunner _runner;

    /// <summary>Wraps an existing session (not owned: the caller disposes it after this object).</summary>
    /// <param name="session">A session of an exported denoiser graph.</param>
    /// <param name="modelName">How to name the model in error messages (e.g. its file path).</param>
    /// <param name="expectedDimension">The required dimension d, or <see langword="null"/> to accept the model's own.</param>
    /// <param name="maxBatchRows">The largest batch per run.</param>
    /// <exception cref="ArgumentNullException"><paramref name="session"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="modelName"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchRows"/> or <paramref name="expectedDimension"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">The model does not have the denoiser signature or has another dimension
    /// (see <see cref="OnnxModelSignature.ValidateDenoiser"/>).</exception>
    public OnnxDenoiser(InferenceSession session, string modelName, int? expectedDimension = null, int maxBatchRows = DefaultMaxBatchRows)
        : this(new OnnxBatchRunner(session, modelName, expectedDimension, maxBatchRows, ownsSession: false, jacobian: false))
    {
    }

    private OnnxDenoiser(OnnxBatchRunner runner) => _runner = runner;

    /// <summary>Loads an exported denoiser from an <c>.onnx</c> file.</summary>
    /// <param name="path">The model file.</param>
    /// <param name="expectedDimension">The required dimension d, or <see langword="null"/> to accept the model's own.</param>
    /// <param name="settings">Session settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="maxBatchRows">The largest batch per run.</param>
    /// <returns>A denoiser that owns its session.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null, empty or white space.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchRows"/> or <paramref name="expectedDimension"/> is not positive.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime cannot load the file, or it lacks the denoiser signature or has another
    /// dimension; the message names the file.</exception>
    public static OnnxDenoiser Load(string path, int? expectedDimension = null, OnnxSessionSettings? settings = null, int maxBatchRows = DefaultMaxBatchRows)
        => new(OnnxBatchRunner.Load(path, expectedDimension, settings, maxBatchRows, jacobian: false));

    /// <summary>Creates a denoiser for an in-memory model.</summary>
    /// <param name="model">An exported denoiser graph.</param>
    /// <param name="settings">Session settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="maxBatchRows">The largest batch per run.</param>
    /// <returns>A denoiser that owns its session.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchRows"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime rejects the model, or it lacks the denoiser signature.</exception>
    public static OnnxDenoiser Create(OnnxModel model, OnnxSessionSettings? settings = null, int maxBatchRows = DefaultMaxBatchRows)
        => new(OnnxBatchRunner.Create(model, settings, maxBatchRows, jacobian: false));

    /// <inheritdoc />
    public int Dimension => _runner.Dimension;

    /// <summary>The largest batch per ORT run.</summary>
    public int MaxBatchRows => _runner.MaxBatchRows;

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The denoiser was disposed.</exception>
    public void Denoise(ReadOnlySpan<double> x, double m, double sigma, Span<double> x0)
    {
        int rows = DenoiserArguments.Check(Dimension, x, m, sigma, x0);
        _runner.Run(this, rows, x, m, sigma, ReadOnlySpan<double>.Empty, x0, Span<double>.Empty);
    }

    /// <summary>Releases the bound ORT values and, when owned, the session.</summary>
    public void Dispose() => _runner.Dispose();
}
