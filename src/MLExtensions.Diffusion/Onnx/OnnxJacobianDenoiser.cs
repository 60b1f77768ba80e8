using Microsoft.ML.OnnxRuntime;
using MLExtensions.Diffusion.Denoisers;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// An <see cref="IDenoiserJacobian"/> that evaluates an exported Jacobian-vector-product graph
/// (<see cref="NetworkOnnxExporter.ExportJacobianVectorProduct"/>) in ONNX Runtime, so that
/// <see cref="Likelihood.ProbabilityFlowLikelihood"/> runs with the network in ORT.
/// </summary>
/// <remarks>
/// <para>Each call converts the rows and tangents to float, feeds m and sigma as [N, 1] columns and runs the graph in
/// batches of at most <see cref="MaxBatchRows"/> rows. Buffers and the ORT values bound to them are reused while the
/// batch size stays the same, so repeated calls allocate nothing on the managed side. <see cref="Denoise"/> runs the
/// same graph with zero tangents.</para>
/// <para>The graph computes in float32: x0hat and J v agree with <see cref="Training.NeuralDenoiser"/> to about 1e-5.</para>
/// <para>Thread safety: calls are serialised by a lock. At sigma = 0 it returns x / m and v / m without running the graph.</para>
/// </remarks>
public sealed class OnnxJacobianDenoiser : IDenoiserJacobian, IDisposable
{
    private readonly OnnxBatchRunner _runner;

    private OnnxJacobianDenoiser(OnnxBatchRunner runner) => _runner = runner;

    /// <summary>Wraps an existing session (not owned: the caller disposes it after this object).</summary>
    /// <param name="session">A session of an exported Jacobian-vector-product graph.</param>
    /// <param name="modelName">How to name the model in error messages.</param>
    /// <param name="expectedDimension">The required dimension d, or <see langword="null"/> to accept the model's own.</param>
    /// <param name="maxBatchRows">The largest batch per run.</param>
    /// <exception cref="ArgumentNullException"><paramref name="session"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="modelName"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchRows"/> or <paramref name="expectedDimension"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">The model lacks the signature (see <see cref="OnnxModelSignature.ValidateJacobianDenoiser"/>).</exception>
    public OnnxJacobianDenoiser(InferenceSession session, string modelName, int? expectedDimension = null, int maxBatchRows = OnnxDenoiser.DefaultMaxBatchRows)
        : this(new OnnxBatchRunner(session, modelName, expectedDimension, maxBatchRows, ownsSession: false, jacobian: true))
    {
    }

    /// <summary>Creates a denoiser for an in-memory model.</summary>
    /// <param name="model">An exported Jacobian-vector-product graph.</param>
    /// <param name="settings">Session settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="maxBatchRows">The largest batch per run.</param>
    /// <returns>A denoiser that owns its session.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchRows"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime rejects the model, or it lacks the signature.</exception>
    public static OnnxJacobianDenoiser Create(OnnxModel model, OnnxSessionSettings? settings = null, int maxBatchRows = OnnxDenoiser.DefaultMaxBatchRows)
        => new(OnnxBatchRunner.Create(model, settings, maxBatchRows, jacobian: true));

    /// <summary>Loads an exported Jacobian-vector-product graph from an <c>.onnx</c> file.</summary>
    /// <param name="path">The model file.</param>
    /// <param name="expectedDimension">The required dimension d, or <see langword="null"/> to accept the model's own.</param>
    /// <param name="settings">Session settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="maxBatchRows">The largest batch per run.</param>
    /// <returns>A denoiser that owns its session.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null, empty or white space.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchRows"/> or <paramref name="expectedDimension"/> is not positive.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime cannot load the file, or it lacks the signature; the message names the file.</exception>
    public static OnnxJacobianDenoiser Load(string path, int? expectedDimension = null, OnnxSessionSettings? settings = null, int maxBatchRows = OnnxDenoiser.DefaultMaxBatchRows)
        => new(OnnxBatchRunner.Load(path, expectedDimension, settings, maxBatchRows, jacobian: true));

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

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The denoiser was disposed.</exception>
    public void JacobianVectorProduct(ReadOnlySpan<double> x, double m, double sigma, ReadOnlySpan<double> v, Span<double> x0, Span<double> jv)
    {
        int rows = DenoiserArguments.CheckJacobian(Dimension, x, m, sigma, v, x0, jv);
        _runner.Run(this, rows, x, m, sigma, v, x0, jv);
    }

    /// <summary>Releases the bound ORT values and, when owned, the session.</summary>
    public void Dispose() => _runner.Dispose();
}
