using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// Checks that a loaded model has the inputs and outputs of an exported denoiser (<see cref="NetworkOnnxExporter"/>) or
/// compiled sampler (<see cref="SamplerGraphCompiler"/>), so that a wrong file fails at load time with a message naming
/// the file and the mismatch rather than deep inside a run.
/// </summary>
public static class OnnxModelSignature
{
    /// <summary>
    /// Checks the denoiser signature: float inputs <c>x</c> [N, d], <c>m</c> [N, 1], <c>sigma</c> [N, 1] and a float output
    /// <c>x0</c> [N, d] (N any; d fixed).
    /// </summary>
    /// <param name="session">The loaded model.</param>
    /// <param name="expectedDimension">The required d, or <see langword="null"/> to accept the model's own.</param>
    /// <param name="modelName">How to name the model in messages (its file path, typically).</param>
    /// <returns>The model's dimension d.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="session"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="modelName"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="expectedDimension"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">An input or output is missing, not float, or has the wrong rank or dimension.</exception>
    public static int ValidateDenoiser(InferenceSession session, int? expectedDimension, string modelName)
    {
        CheckArguments(session, expectedDimension, modelName);
        const string what = "an exported denoiser";
        int d = Features(session.InputMetadata, NetworkOnnxExporter.InputX, "input", 2, expectedDimension, modelName, what);
        Features(session.InputMetadata, NetworkOnnxExporter.InputM, "input", 2, 1, modelName, what);
        Features(session.InputMetadata, NetworkOnnxExporter.InputSigma, "input", 2, 1, modelName, what);
        Features(session.OutputMetadata, NetworkOnnxExporter.OutputX0, "output", 2, d, modelName, what);
        if (session.InputMetadata.Count != 3)
            throw new InvalidDataException(
                $"ONNX model '{modelName}' is not {what}: expected inputs [{NetworkOnnxExporter.InputX}, {NetworkOnnxExporter.InputM}, {NetworkOnnxExporter.InputSigma}], found [{string.Join(", ", session.InputMetadata.Keys)}].");
        return d;
    }

    /// <summary>
    /// Checks the Jacobian-vector-product signature (<see cref="NetworkOnnxExporter.ExportJacobianVectorProduct"/>): float
    /// inputs <c>x</c> [N, d], <c>m</c> [N, 1], <c>sigma</c> [N, 1], <c>v</c> [N, d] and float outputs <c>x0</c> and
    /// <c>jv</c> [N, d].
    /// </summary>
    /// <param name="session">The loaded model.</param>
    /// <param name="expectedDimension">The required d, or <see langword="null"/> to accept the model's own.</param>
    /// <param name="modelName">How to name the model in messages (its file path, typically).</param>
    /// <returns>The model's dimension d.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="session"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="modelName"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="expectedDimension"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">An input or output is missing, not float, or has the wrong rank or dimension.</exception>
    public static int ValidateJacobianDenoiser(InferenceSession session, int? expectedDimension, string modelName)
    {
        CheckArguments(session, expectedDimension, modelName);
        const string what = "an exported denoiser with Jacobian-vector products";
        int d = Features(session.InputMetadata, NetworkOnnxExporter.InputX, "input", 2, expectedDimension, modelName, what);
        Features(session.InputMetadata, NetworkOnnxExporter.InputM, "input", 2, 1, modelName, what);
        Features(session.InputMetadata, NetworkOnnxExporter.InputSigma, "input", 2, 1, modelName, what);
        Features(session.InputMetadata, NetworkOnnxExporter.InputTangent, "input", 2, d, modelName, what);
        Features(session.OutputMetadata, NetworkOnnxExporter.OutputX0, "output", 2, d, modelName, what);
        Features(session.OutputMetadata, NetworkOnnxExporter.OutputJacobianVectorProduct, "output", 2, d, modelName, what);
        if (session.InputMetadata.Count != 4)
            throw new InvalidDataException(
                $"ONNX model '{modelName}' is not {what}: expected 4 inputs, found [{string.Join(", ", session.InputMetadata.Keys)}].");
        return d;
    }

    /// <summary>
    /// Checks the sampler signature: a float input <c>noise</c> [N, d], optionally <c>step_noise</c> [S, N, d], and a float
    /// output <c>samples</c> [N, d].
    /// </summary>
    /// <param name="session">The loaded model.</param>
    /// <param name="expectedDimension">The required d, or <see langword="null"/> to accept the model's own.</param>
    /// <param name="modelName">How to name the model in messages (its file path, typically).</param>
    /// <returns>The model's dimension d and S, the leading dimension of <c>step_noise</c> (0 without that input).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="session"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="modelName"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="expectedDimension"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">An input or output is missing, not float, or has the wrong rank or dimension.</exception>
    public static (int Dimension, int NoiseDraws) ValidateSampler(InferenceSession session, int? expectedDimension, string modelName)
    {
        CheckArguments(session, expectedDimension, modelName);
        const string what = "a compiled sampler";
        int d = Features(session.InputMetadata, SamplerGraphCompiler.InputNoise, "input", 2, expectedDimension, modelName, what);
        Features(session.OutputMetadata, SamplerGraphCompiler.OutputSamples, "output", 2, d, modelName, what);
        int draws = 0;
        if (session.InputMetadata.ContainsKey(SamplerGraphCompiler.InputStepNoise))
        {
            Features(session.InputMetadata, SamplerGraphCompiler.InputStepNoise, "input", 3, d, modelName, what);
            draws = session.InputMetadata[SamplerGraphCompiler.InputStepNoise].Dimensions[0];
            if (draws <= 0)
                throw new InvalidDataException(
                    $"ONNX model '{modelName}' is not {what}: input '{SamplerGraphCompiler.InputStepNoise}' must have a fixed leading dimension S > 0, got {draws}.");
        }
        int expectedInputs = draws > 0 ? 2 : 1;
        if (session.InputMetadata.Count != expectedInputs)
            throw new InvalidDataException(
                $"ONNX model '{modelName}' is not {what}: expected inputs [{SamplerGraphCompiler.InputNoise}{(draws > 0 ? ", " + SamplerGraphCompiler.InputStepNoise : "")}], found [{string.Join(", ", session.InputMetadata.Keys)}].");
        return (d, draws);
    }

    private static void CheckArguments(InferenceSession session, int? expectedDimension, string modelName)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        if (expectedDimension is { } e && e <= 0)
            throw new ArgumentOutOfRangeException(nameof(expectedDimension), e, "The expected dimension must be positive.");
    }

    /// <summary>Checks a float tensor of the given rank and returns its last dimension, which must equal <paramref name="expectedLast"/> if given.</summary>
    private static int Features(IReadOnlyDictionary<string, NodeMetadata> values, string name, string kind, int rank, int? expectedLast, string modelName, string what)
    {
        if (!values.TryGetValue(name, out var meta))
            throw new InvalidDataException(
                $"ONNX model '{modelName}' is not {what}: it has no {kind} named '{name}' (its {kind}s: [{string.Join(", ", values.Keys)}]).");
        if (!meta.IsTensor || meta.ElementDataType != TensorElementType.Float)
            throw new InvalidDataException(
                $"ONNX model '{modelName}' is not {what}: {kind} '{name}' must be a float32 tensor, found {meta.OnnxValueType} of {meta.ElementDataType}.");
        var dims = meta.Dimensions;
        if (dims.Length != rank)
            throw new InvalidDataException(
                $"ONNX model '{modelName}' is not {what}: {kind} '{name}' must have rank {rank}, found shape [{Shape(meta)}].");
        int last = dims[^1];
        if (last <= 0)
            throw new InvalidDataException(
                $"ONNX model '{modelName}' is not {what}: the last dimension of {kind} '{name}' must be fixed, found shape [{Shape(meta)}].");
        if (expectedLast is { } e && last != e)
            throw new InvalidDataException(
                $"ONNX model '{modelName}' does not match: {kind} '{name}' has {last} features (shape [{Shape(meta)}]) but {e} are expected.");
        return last;
    }

    private static string Shape(NodeMetadata meta) =>
        string.Join(", ", meta.Dimensions.Select((v, i) => v >= 0 ? v.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : meta.SymbolicDimensions is { } s && i < s.Length && s[i].Length > 0 ? s[i] : "?"));
}
