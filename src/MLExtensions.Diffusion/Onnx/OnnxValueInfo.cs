namespace MLExtensions.Diffusion.Onnx;

/// <summary>Name, element type and shape of a graph input or output.</summary>
internal sealed record OnnxValueInfo(string Name, OnnxElementType ElementType, OnnxDim[] Shape);
