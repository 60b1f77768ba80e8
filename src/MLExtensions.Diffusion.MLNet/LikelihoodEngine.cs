namespace MLExtensions.Diffusion.MLNet;

/// <summary>Where <see cref="LikelihoodTransformer"/> evaluates the network's Jacobian-vector products.</summary>
public enum LikelihoodEngine
{
    /// <summary>The managed engine: <see cref="Training.NeuralDenoiser"/> (double-precision outputs of the float32 network).</summary>
    CSharp,

    /// <summary>ONNX Runtime: the Jacobian-vector-product graph of
    /// <see cref="Onnx.NetworkOnnxExporter.ExportJacobianVectorProduct"/> run by an <see cref="Onnx.OnnxJacobianDenoiser"/>
    /// (float32 throughout; agrees with <see cref="CSharp"/> to about 1e-4 nats per row).</summary>
    Onnx,

    /// <summary>The compiled engine, <see cref="Likelihood.CompiledLikelihood"/>: the noise embedding folded per level, one
    /// forward pass plus d tangents per row, no lock; the same steps and integrator as <see cref="CSharp"/> (agreeing with it
    /// to float rounding) or, with <see cref="LikelihoodTransformOptions.AdaptiveTolerance"/>, an adaptive integrator.
    /// Networks it cannot compile (layer norm) fall back to <see cref="CSharp"/>.</summary>
    Compiled,
}
