namespace MLExtensions.Diffusion.Service;

/// <summary>The engine the service generates rows and scores likelihoods with.</summary>
public enum SamplingEngine
{
    /// <summary>ONNX Runtime: the model's compiled sampler graph and its Jacobian-vector-product graph, on the provider of
    /// <see cref="SamplerServiceOptions.ExecutionProvider"/> (the GPU when one is usable). Rows equal the C# engine's up to
    /// float32 rounding.</summary>
    Onnx,

    /// <summary>The library's own C# engine: rows exactly those of the model's <c>Generate(count, seed)</c>.</summary>
    CSharp,
}
