namespace MLExtensions.Diffusion.Onnx;

/// <summary>A constant tensor held by a graph (initializer) or by a Constant node's <c>value</c> attribute.</summary>
internal sealed class OnnxTensor
{
    private OnnxTensor(string name, OnnxElementType type, long[] dims, float[]? floats, long[]? int64s)
    {
        Name = name;
        ElementType = type;
        Dims = dims;
        Floats = floats;
        Int64s = int64s;
    }

    public string Name { get; }
    public OnnxElementType ElementType { get; }
    public long[] Dims { get; }
    public float[]? Floats { get; }
    public long[]? Int64s { get; }

    public static OnnxTensor FromFloats(string name, float[] values, long[] dims) => new(name, OnnxElementType.Float, dims, values, null);

    public static OnnxTensor FromInt64s(string name, long[] values, long[] dims) => new(name, OnnxElementType.Int64, dims, null, values);
}
