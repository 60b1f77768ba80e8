namespace MLExtensions.Diffusion.Onnx;

/// <summary>Element types of ONNX tensors this library writes; values are ONNX's <c>TensorProto.DataType</c> codes.</summary>
public enum OnnxElementType
{
    /// <summary>32-bit IEEE-754 float (ONNX <c>FLOAT</c> = 1).</summary>
    Float = 1,

    /// <summary>64-bit signed integer (ONNX <c>INT64</c> = 7), used for shapes and axes.</summary>
    Int64 = 7,
}
