namespace MLExtensions.Diffusion.MLNet;

/// <summary>How <see cref="GenerateTransformer"/> runs the sampler on a batch of latents.</summary>
public enum GenerateEngine
{
    /// <summary>The whole sampler compiled into one ONNX graph (<see cref="Onnx.SamplerGraphCompiler"/>): one ONNX Runtime
    /// run per batch (the default and the fastest route).</summary>
    OnnxGraph,

    /// <summary>The C# sampler with the network in ONNX Runtime (<see cref="Onnx.OnnxDenoiser"/>): one run per network
    /// evaluation (the host-loop baseline).</summary>
    OnnxHostLoop,

    /// <summary>The C# sampler with the C# network (<see cref="Training.NeuralDenoiser"/>), in double precision between
    /// network calls.</summary>
    CSharp,
}
