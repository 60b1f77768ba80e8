using Microsoft.ML.OnnxRuntime;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>
/// An ONNX Runtime session with its inputs and outputs bound once, for timing repeated <see cref="Run"/> calls. Owns the
/// session options, the session and the bound values.
/// </summary>
internal sealed class BoundSession : IDisposable
{
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly string[] _inputNames, _outputNames;
    private readonly OrtValue[] _inputs, _outputs;

    /// <param name="model">The serialised model.</param>
    /// <param name="options">Session options (owned from here on).</param>
    /// <param name="bind">Given the session, the input names and values and the output names and values to bind.</param>
    public BoundSession(byte[] model, SessionOptions options, Func<InferenceSession, (string[] InputNames, OrtValue[] Inputs, string[] OutputNames, OrtValue[] Outputs)> bind)
    {
        _options = options;
        _session = new InferenceSession(model, options);
        (_inputNames, _inputs, _outputNames, _outputs) = bind(_session);
    }

    public void Run() => _session.Run(_run, _inputNames, _inputs, _outputNames, _outputs);

    /// <summary>Ends ONNX Runtime's profiling (when enabled in the options) and returns the profile file.</summary>
    public string EndProfiling() => _session.EndProfiling();

    public void Dispose()
    {
        foreach (var v in _inputs) v.Dispose();
        foreach (var v in _outputs) v.Dispose();
        _run.Dispose();
        _session.Dispose();
        _options.Dispose();
    }
}
