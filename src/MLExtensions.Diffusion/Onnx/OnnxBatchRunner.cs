using Microsoft.ML.OnnxRuntime;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// The session plumbing shared by <see cref="OnnxDenoiser"/> and <see cref="OnnxJacobianDenoiser"/>: owns or borrows
/// an ONNX Runtime session of an exported denoiser graph (optionally its Jacobian-vector-product form), validates its
/// signature, and runs it in batches of at most <see cref="MaxBatchRows"/> rows through float buffers and the ORT values
/// bound to them, kept while the batch size stays the same. Calls and <see cref="Dispose"/> are serialised by a lock.
/// </summary>
internal sealed class OnnxBatchRunner : IDisposable
{
    private static readonly string[] DenoiserInputs = [NetworkOnnxExporter.InputX, NetworkOnnxExporter.InputM, NetworkOnnxExporter.InputSigma];
    private static readonly string[] DenoiserOutputs = [NetworkOnnxExporter.OutputX0];

    private static readonly string[] JacobianInputs =
        [NetworkOnnxExporter.InputX, NetworkOnnxExporter.InputM, NetworkOnnxExporter.InputSigma, NetworkOnnxExporter.InputTangent];

    private static readonly string[] JacobianOutputs = [NetworkOnnxExporter.OutputX0, NetworkOnnxExporter.OutputJacobianVectorProduct];

    private readonly object _gate = new();
    private readonly InferenceSession _session;
    private readonly bool _ownsSession;
    private readonly bool _jacobian;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
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

    /// <summary>Validates <paramref name="session"/> against the denoiser (or, with <paramref name="jacobian"/>, the
    /// Jacobian-vector-product) signature and wraps it.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="session"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="modelName"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchRows"/> or <paramref name="expectedDimension"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">The model lacks the signature or has another dimension.</exception>
    public OnnxBatchRunner(InferenceSession session, string modelName, int? expectedDimension, int maxBatchRows, bool ownsSession, bool jacobian)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchRows);
        Dimension = jacobian
            ? OnnxModelSignature.ValidateJacobianDenoiser(session, expectedDimension, modelName)
            : OnnxModelSignature.ValidateDenoiser(session, expectedDimension, modelName);
        _session = session;
        _ownsSession = ownsSession;
        _jacobian = jacobian;
        _inputNames = jacobian ? JacobianInputs : DenoiserInputs;
        _outputNames = jacobian ? JacobianOutputs : DenoiserOutputs;
        MaxBatchRows = maxBatchRows;
    }

    /// <summary>Loads the model file into a session the runner owns (disposed again if validation fails).</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null, empty or white space.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchRows"/> or <paramref name="expectedDimension"/> is not positive.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime cannot load the file, or it lacks the signature or has another dimension.</exception>
    public static OnnxBatchRunner Load(string path, int? expectedDimension, OnnxSessionSettings? settings, int maxBatchRows, bool jacobian)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchRows);
        if (expectedDimension is { } e && e <= 0)
            throw new ArgumentOutOfRangeException(nameof(expectedDimension), e, "The expected dimension must be positive.");
        var session = OnnxSessionFactory.CreateFromFile(path, settings);
        return Own(session, Path.GetFullPath(path), expectedDimension, maxBatchRows, jacobian);
    }

    /// <summary>Creates a session the runner owns for an in-memory model (disposed again if validation fails).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchRows"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime rejects the model, or it lacks the signature.</exception>
    public static OnnxBatchRunner Create(OnnxModel model, OnnxSessionSettings? settings, int maxBatchRows, bool jacobian)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchRows);
        var session = OnnxSessionFactory.Create(model, settings);
        return Own(session, $"in-memory model ({model.SizeInBytes} bytes)", null, maxBatchRows, jacobian);
    }

    private static OnnxBatchRunner Own(InferenceSession session, string modelName, int? expectedDimension, int maxBatchRows, bool jacobian)
    {
        try
        {
            return new OnnxBatchRunner(session, modelName, expectedDimension, maxBatchRows, ownsSession: true, jacobian);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The model's dimension d.</summary>
    public int Dimension { get; }

    /// <summary>The largest batch per ORT run.</summary>
    public int MaxBatchRows { get; }

    /// <summary>Evaluates the graph on <paramref name="rows"/> checked rows; at sigma = 0 returns x / m (and v / m)
    /// without running it. An empty <paramref name="v"/> means zero tangents; an empty <paramref name="jv"/> skips the
    /// Jacobian-vector product (both are always empty for a plain denoiser graph). <paramref name="owner"/> is the public
    /// object an <see cref="ObjectDisposedException"/> names.</summary>
    /// <exception cref="ObjectDisposedException">The runner was disposed.</exception>
    public void Run(object owner, int rows, ReadOnlySpan<double> x, double m, double sigma, ReadOnlySpan<double> v, Span<double> x0, Span<double> jv)
    {
        ObjectDisposedException.ThrowIf(_disposed, owner);
        if (sigma == 0)
        {
            if (jv.IsEmpty)
            {
                for (int i = 0; i < x.Length; i++) x0[i] = x[i] / m;
            }
            else
            {
                for (int i = 0; i < x.Length; i++)
                {
                    x0[i] = x[i] / m;
                    jv[i] = v[i] / m;
                }
            }
            return;
        }
        int d = Dimension;
        float mf = (float)m, sf = (float)sigma;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, owner);
            for (int start = 0; start < rows; start += MaxBatchRows)
            {
                int batch = Math.Min(MaxBatchRows, rows - start), n = batch * d, o = start * d;
                Bind(batch);
                for (int i = 0; i < n; i++) _x[i] = (float)x[o + i];
                if (_jacobian)
                {
                    if (v.IsEmpty) _v.AsSpan(0, n).Clear();
                    else for (int i = 0; i < n; i++) _v[i] = (float)v[o + i];
                }
                _m.AsSpan(0, batch).Fill(mf);
                _sigma.AsSpan(0, batch).Fill(sf);
                _session.Run(_runOptions, _inputNames, _inputs!, _outputNames, _outputs!);
                for (int i = 0; i < n; i++) x0[o + i] = _x0[i];
                if (!jv.IsEmpty)
                    for (int i = 0; i < n; i++) jv[o + i] = _jv[i];
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
            if (_jacobian)
            {
                _v = new float[capacity * d];
                _jv = new float[capacity * d];
            }
        }
        var info = OrtMemoryInfo.DefaultInstance;
        long[] rowShape = [rows, d], levelShape = [rows, 1];
        var x = OrtValue.CreateTensorValueFromMemory(info, _x.AsMemory(0, rows * d), rowShape);
        var m = OrtValue.CreateTensorValueFromMemory(info, _m.AsMemory(0, rows), levelShape);
        var sigma = OrtValue.CreateTensorValueFromMemory(info, _sigma.AsMemory(0, rows), levelShape);
        var x0 = OrtValue.CreateTensorValueFromMemory(info, _x0.AsMemory(0, rows * d), rowShape);
        if (_jacobian)
        {
            _inputs = [x, m, sigma, OrtValue.CreateTensorValueFromMemory(info, _v.AsMemory(0, rows * d), rowShape)];
            _outputs = [x0, OrtValue.CreateTensorValueFromMemory(info, _jv.AsMemory(0, rows * d), rowShape)];
        }
        else
        {
            _inputs = [x, m, sigma];
            _outputs = [x0];
        }
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
