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
    private static readonly string[] InputNames =
        [NetworkOnnxExporter.InputX, NetworkOnnxExporter.InputM, NetworkOnnxExporter.InputSigma, NetworkOnnxExporter.InputTangent];

    private static readonly string[] OutputNames = [NetworkOnnxExporter.OutputX0, NetworkOnnxExporter.OutputJacobianVectorProduct];

    private readonly object _gate = new();
    private readonly InferenceSession _session;
    private readonly bool _ownsSession;
    private readonly RunOptions _runOptions = new();
    private float[] _x = [];
    private float[] _m = [];
    private float[] _sigma = [];
    private float[] _v = [];
    private float[] _x0 = [];
    private float[] _jv = [];
    private OrtValue[]? _inputs;
    private OrtValue[]? _outputs;
    private int _boundRows;
    private bool _disposed;

    private OnnxJacobianDenoiser(InferenceSession session, string modelName, int? expectedDimension, int maxBatchRows, bool ownsSession)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchRows);
        Dimension = OnnxModelSignature.ValidateJacobianDenoiser(session, expectedDimension, modelName);
        _session = session;
        _ownsSession = ownsSession;
        MaxBatchRows = maxBatchRows;
    }

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
        : this(session, modelName, expectedDimension, maxBatchRows, ownsSession: false)
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
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchRows);
        var session = OnnxSessionFactory.Create(model, settings);
        try
        {
            return new OnnxJacobianDenoiser(session, $"in-memory model ({model.SizeInBytes} bytes)", null, maxBatchRows, ownsSession: true);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

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
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchRows);
        if (expectedDimension is { } e && e <= 0)
            throw new ArgumentOutOfRangeException(nameof(expectedDimension), e, "The expected dimension must be positive.");
        var session = OnnxSessionFactory.CreateFromFile(path, settings);
        try
        {
            return new OnnxJacobianDenoiser(session, Path.GetFullPath(path), expectedDimension, maxBatchRows, ownsSession: true);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <summary>The largest batch per ORT run.</summary>
    public int MaxBatchRows { get; }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The denoiser was disposed.</exception>
    public void Denoise(ReadOnlySpan<double> x, double m, double sigma, Span<double> x0)
    {
        int rows = DenoiserArguments.Check(Dimension, x, m, sigma, x0);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (sigma == 0)
        {
            for (int i = 0; i < x.Length; i++) x0[i] = x[i] / m;
            return;
        }
        RunBatches(x, m, sigma, ReadOnlySpan<double>.Empty, x0, Span<double>.Empty, rows);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The denoiser was disposed.</exception>
    public void JacobianVectorProduct(ReadOnlySpan<double> x, double m, double sigma, ReadOnlySpan<double> v, Span<double> x0, Span<double> jv)
    {
        int rows = DenoiserArguments.CheckJacobian(Dimension, x, m, sigma, v, x0, jv);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (sigma == 0)
        {
            for (int i = 0; i < x.Length; i++)
            {
                x0[i] = x[i] / m;
                jv[i] = v[i] / m;
            }
            return;
        }
        RunBatches(x, m, sigma, v, x0, jv, rows);
    }

    /// <summary>Releases the bound ORT values and, when owned, the session.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            Unbind();
            _runOptions.Dispose();
            if (_ownsSession) _session.Dispose();
        }
    }

    /// <summary>Runs the graph over the rows; an empty <paramref name="v"/> means zero tangents and skips <paramref name="jv"/>.</summary>
    private void RunBatches(ReadOnlySpan<double> x, double m, double sigma, ReadOnlySpan<double> v, Span<double> x0, Span<double> jv, int rows)
    {
        int d = Dimension;
        float mf = (float)m, sf = (float)sigma;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            for (int start = 0; start < rows; start += MaxBatchRows)
            {
                int batch = Math.Min(MaxBatchRows, rows - start), n = batch * d, o = start * d;
                Bind(batch);
                for (int i = 0; i < n; i++) _x[i] = (float)x[o + i];
                if (v.IsEmpty) _v.AsSpan(0, n).Clear();
                else for (int i = 0; i < n; i++) _v[i] = (float)v[o + i];
                _m.AsSpan(0, batch).Fill(mf);
                _sigma.AsSpan(0, batch).Fill(sf);
                _session.Run(_runOptions, InputNames, _inputs!, OutputNames, _outputs!);
                for (int i = 0; i < n; i++) x0[o + i] = _x0[i];
                if (!jv.IsEmpty)
                    for (int i = 0; i < n; i++) jv[o + i] = _jv[i];
            }
        }
    }

    /// <summary>Makes the ORT values describe exactly <paramref name="rows"/> rows of the (grown if needed) buffers.</summary>
    private void Bind(int rows)
    {
        if (_inputs is not null && _boundRows == rows) return;
        Unbind();
        int d = Dimension;
        if (_m.Length < rows)
        {
            int capacity = Math.Max(rows, Math.Min(MaxBatchRows, 2 * _m.Length));
            _x = new float[capacity * d];
            _v = new float[capacity * d];
            _x0 = new float[capacity * d];
            _jv = new float[capacity * d];
            _m = new float[capacity];
            _sigma = new float[capacity];
        }
        var info = OrtMemoryInfo.DefaultInstance;
        long[] rowShape = [rows, d], levelShape = [rows, 1];
        _inputs =
        [
            OrtValue.CreateTensorValueFromMemory(info, _x.AsMemory(0, rows * d), rowShape),
            OrtValue.CreateTensorValueFromMemory(info, _m.AsMemory(0, rows), levelShape),
            OrtValue.CreateTensorValueFromMemory(info, _sigma.AsMemory(0, rows), levelShape),
            OrtValue.CreateTensorValueFromMemory(info, _v.AsMemory(0, rows * d), rowShape),
        ];
        _outputs =
        [
            OrtValue.CreateTensorValueFromMemory(info, _x0.AsMemory(0, rows * d), rowShape),
            OrtValue.CreateTensorValueFromMemory(info, _jv.AsMemory(0, rows * d), rowShape),
        ];
        _boundRows = rows;
    }

    private void Unbind()
    {
        foreach (var value in _inputs ?? []) value.Dispose();
        foreach (var value in _outputs ?? []) value.Dispose();
        _inputs = null;
        _outputs = null;
        _boundRows = 0;
    }
}
