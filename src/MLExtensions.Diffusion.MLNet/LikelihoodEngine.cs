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
}
