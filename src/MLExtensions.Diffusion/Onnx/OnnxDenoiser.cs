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

    private static readonly string[] InputNames = [NetworkOnnxExporter.InputX, NetworkOnnxExporter.InputM, NetworkOnnxExporter.InputSigma];
    private static readonly string[] OutputNames = [NetworkOnnxExporter.OutputX0];

    private readonly object _gate = new();
    private readonly InferenceSession _session;
    private readonly bool _ownsSession;
    private readonly RunOptions _runOptions = new();
    private float[] _x = [];
    private float[] _m = [];
    private float[] _sigma = [];
    private float[] _x0 = [];
    private OrtValue[]? _inputs;
    private OrtValue[]? _outputs;
    private int _boundRows;
    private bool _disposed;

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
        : this(session, modelName, expectedDimension, maxBatchRows, ownsSession: false)
    {
    }

    private OnnxDenoiser(InferenceSession session, string modelName, int? expectedDimension, int maxBatchRows, bool ownsSession)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchRows);
        Dimension = OnnxModelSignature.ValidateDenoiser(session, expectedDimension, modelName);
        _session = session;
        _ownsSession = ownsSession;
        MaxBatchRows = maxBatchRows;
    }

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
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchRows);
        if (expectedDimension is { } e && e <= 0)
            throw new ArgumentOutOfRangeException(nameof(expectedDimension), e, "The expected dimension must be positive.");
        var session = OnnxSessionFactory.CreateFromFile(path, settings);
        return Own(session, Path.GetFullPath(path), expectedDimension, maxBatchRows);
    }

    /// <summary>Creates a denoiser for an in-memory model.</summary>
    /// <param name="model">An exported denoiser graph.</param>
    /// <param name="settings">Session settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="maxBatchRows">The largest batch per run.</param>
    /// <returns>A denoiser that owns its session.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchRows"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime rejects the model, or it lacks the denoiser signature.</exception>
    public static OnnxDenoiser Create(OnnxModel model, OnnxSessionSettings? settings = null, int maxBatchRows = DefaultMaxBatchRows)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchRows);
        var session = OnnxSessionFactory.Create(model, settings);
        return Own(session, $"in-memory model ({model.SizeInBytes} bytes)", null, maxBatchRows);
    }

    private static OnnxDenoiser Own(InferenceSession session, string modelName, int? expectedDimension, int maxBatchRows)
    {
        try
        {
            return new OnnxDenoiser(session, modelName, expectedDimension, maxBatchRows, ownsSession: true);
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
        int d = Dimension;
        float mf = (float)m, sf = (float)sigma;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            for (int start = 0; start < rows; start += MaxBatchRows)
            {
                int batch = Math.Min(MaxBatchRows, rows - start), n = batch * d;
                Bind(batch);
                var source = x.Slice(start * d, n);
                for (int i = 0; i < n; i++) _x[i] = (float)source[i];
                _m.AsSpan(0, batch).Fill(mf);
                _sigma.AsSpan(0, batch).Fill(sf);
                _session.Run(_runOptions, InputNames, _inputs!, OutputNames, _outputs!);
                var target = x0.Slice(start * d, n);
                for (int i = 0; i < n; i++) target[i] = _x0[i];
            }
        }
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
            _x0 = new float[capacity * d];
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
        ];
        _outputs = [OrtValue.CreateTensorValueFromMemory(info, _x0.AsMemory(0, rows * d), rowShape)];
        _boundRows = rows;
    }

    private void Unbind()
    {
        foreach (var v in _inputs ?? []) v.Dispose();
        foreach (var v in _outputs ?? []) v.Dispose();
        _inputs = null;
        _outputs = null;
        _boundRows = 0;
    }
}
